using System.Diagnostics;
using HappyWhale.Experiments;
using HappyWhale.Imaging;
using HappyWhale.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Training;

/// <summary>
/// Images of the training split and their class indices (0..classes-1). Optional: per-class ArcFace margins
/// (dynamic margins) and a species index per row (for a model with a species head).
/// </summary>
public sealed record LabelledRows(IReadOnlyList<int> Rows, IReadOnlyList<long> Labels, int Classes,
    IReadOnlyList<float>? ClassMargins = null, IReadOnlyList<long>? SpeciesLabels = null);

/// <summary>What one epoch did.</summary>
public sealed record EpochStats(int Phase, int Epoch, int Epochs, double Loss, double Accuracy, double LearningRate,
    double ImagesPerSecond, double Seconds, double? ValidationMap5 = null, IReadOnlyDictionary<string, double>? GroupLearningRates = null);

/// <summary>Receives progress from the trainer (console bars, MLflow, tests).</summary>
public interface ITrainingObserver
{
    void EpochStarted(int phase, int epoch, int epochs, int images);
    /// <summary>Every <see cref="Trainer.ReadEvery"/> steps (and at an epoch's end): the images since the last call and their mean loss.</summary>
    void StepFinished(int images, double loss);
    void EpochFinished(EpochStats stats);
    void Resumed(int phase, int epochsDone, int epochs) { }
}

/// <summary>Raised when the loss stops being a finite number: training cannot recover from it.</summary>
public sealed class NonFiniteLossException(string message) : UserException(message);

/// <summary>
/// Trains one phase: AdamW, warmup + cosine per step, batch augmentation, ArcFace loss.
/// Each step runs inside its own dispose scope so native memory stays flat.
/// </summary>
public sealed class Trainer(TrainSpec spec, ITrainingObserver observer, int earlyUntil = 4)
{
    /// <summary>
    /// Batches made ahead of the step in flight (0: each made when its step starts, on the training thread). Null: two on
    /// CUDA, none on the CPU, where a producer's OpenMP work running beside the step's once changed the last bits of an
    /// EfficientNet's weights (a test compares the two) and two cores leave little to overlap.
    /// </summary>
    public int? PrefetchDepth { get; init; }

    /// <summary>
    /// model.head.margin_warmup: share of the phase's steps over which the ArcFace margin(s) grow linearly from 0 to
    /// their value (0: the full margin from the first step).
    /// </summary>
    public double MarginWarmup { get; init; }

    /// <summary>Steps between two reads of the loss from the device: the only host synchronisation of the loop.</summary>
    public const int ReadEvery = 8;

    /// <param name="model">the model, already on the training device (<see cref="ComputeDevice.Of"/>); batches follow it.</param>
    /// <param name="checkpoint">where end-of-epoch checkpoints go; an existing one is resumed from.</param>
    /// <param name="validate">scores the model after an epoch (validation MAP@5), or null to skip.</param>
    public IReadOnlyList<EpochStats> RunPhase(ReidModel model, IImageBatches images, LabelledRows data, PhaseSpec phase, int phaseIndex,
        PhaseCheckpoint? checkpoint = null, Func<double?>? validate = null)
    {
        var device = ComputeDevice.Of(model);
        int batchSize = Math.Min(phase.BatchSize ?? spec.BatchSize, data.Rows.Count);
        // BatchNorm cannot train on a batch of one image: a trailing single image is dropped.
        int stepsPerEpoch = data.Rows.Count / batchSize + (data.Rows.Count % batchSize >= 2 ? 1 : 0);
        var schedule = LearningRateSchedules.For(spec, phase.Lr, stepsPerEpoch, phase.Epochs);
        var augment = new TensorAugment(spec.Augment);
        using var grouped = new GroupedOptimizer(model, spec, earlyUntil, phase.Lr);
        var optimizer = grouped.Optimizer;
        int accumulate = Math.Max(1, spec.Accumulate);

        using var classMargins = data.ClassMargins is null ? null : tensor(data.ClassMargins.ToArray(), device: device);
        bool speciesLoss = model.SpeciesHead is not null && data.SpeciesLabels is not null && model.SpeciesLossWeight > 0;

        // train.ema: the average of the weights, which the phase hands on instead of the last weights.
        using var average = spec.Ema > 0 ? new WeightAverage(model, spec.Ema) : null;
        int optimizerStepsPerEpoch = Enumerable.Range(0, stepsPerEpoch).Count(s => (s + 1) % accumulate == 0 || s == stepsPerEpoch - 1);
        long marginWarmupSteps = (long)Math.Round(MarginWarmup * stepsPerEpoch * phase.Epochs);

        var history = new List<EpochStats>();
        int firstEpoch = 0;
        Action<string>? restoreAverage = average is null ? null : file => average.load(file);
        if (checkpoint?.TryRestore(model, optimizer, restoreAverage) is { } restored)
        {
            if (average is not null) average.Updates = (long)restored.EpochsDone * optimizerStepsPerEpoch;
            firstEpoch = restored.EpochsDone;
            history.AddRange(restored.History);
            observer.Resumed(phaseIndex, firstEpoch, phase.Epochs);
        }
        var window = new StepWindow(phaseIndex, observer);
        for (int epoch = firstEpoch; epoch < phase.Epochs; epoch++)
        {
            // Every random draw of an epoch comes from seeds of (seed, phase, epoch): a resumed run
            // replays exactly the epochs an uninterrupted run would have.
            long epochSeed = spec.Seed * 1_000_003L + phaseIndex * 10_007L + epoch;
            torch.manual_seed(epochSeed);
            using var generator = new Generator((ulong)epochSeed, CPU);
            var permutation = Enumerable.Range(0, data.Rows.Count).ToArray();
            new Random((int)(epochSeed % int.MaxValue)).Shuffle(permutation);

            // Read, augment and move batch s+1 while step s runs; the producer alone draws from the generator.
            TrainingBatch Produce(int s)
            {
                var batch = permutation.Skip(s * batchSize).Take(batchSize).ToArray();
                var rows = batch.Select(i => data.Rows[i]).ToArray();
                var x = MemoryLayout.Apply(InputNormalization.Apply(model, augment.Apply(ComputeDevice.Move(images.ReadBatch(rows), device), generator)), spec.MemoryFormat);
                var labels = tensor(batch.Select(i => data.Labels[i]).ToArray(), device: device);
                var species = speciesLoss ? tensor(batch.Select(i => data.SpeciesLabels![i]).ToArray(), device: device) : null;
                return new TrainingBatch(x, labels, species, rows.Length);
            }

            model.train();
            grouped.ApplyFreezing(epoch);
            observer.EpochStarted(phaseIndex, epoch, phase.Epochs, stepsPerEpoch * batchSize);
            var clock = Stopwatch.StartNew();
            double lr = 0;
            window.StartEpoch(epoch);
            using (var batches = new BatchPrefetcher(stepsPerEpoch, Produce, PrefetchDepth ?? (device.type == DeviceType.CUDA ? 2 : 0)))
            {
                for (int s = 0; s < stepsPerEpoch; s++)
                {
                    long step = (long)epoch * stepsPerEpoch + s;
                    using var scope = NewDisposeScope();
                    using var batch = batches.Next();
                    lr = schedule.At(step);
                    grouped.SetLearningRate(lr);

                    var embeddings = model.forward(batch.Images);
                    double marginScale = step < marginWarmupSteps ? (step + 1.0) / marginWarmupSteps : 1.0;
                    var logits = model.Logits(embeddings, batch.Labels, classMargins, marginScale);
                    var loss = nn.functional.cross_entropy(logits, batch.Labels, label_smoothing: spec.LabelSmoothing);
                    if (speciesLoss)
                    {
                        var speciesLogits = model.SpeciesLogits(embeddings, batch.SpeciesLabels!);
                        loss = loss + nn.functional.cross_entropy(speciesLogits, batch.SpeciesLabels!, label_smoothing: spec.LabelSmoothing).mul(Scalars.Of(model.SpeciesLossWeight));
                    }
                    // Gradient accumulation: sum the gradients of `accumulate` batches, then one step.
                    if (s % accumulate == 0) optimizer.zero_grad();
                    (accumulate > 1 ? loss.div(Scalars.Of(accumulate)) : loss).backward();
                    if ((s + 1) % accumulate == 0 || s == stepsPerEpoch - 1)
                    {
                        optimizer.step();
                        average?.Update();
                    }

                    // Loss and hits stay on the device; the window reads them every ReadEvery steps and stops on a non-finite loss.
                    window.Add(step, lr, batch.Count, loss.detach(), logits.argmax(1).eq(batch.Labels).sum());
                    if (window.Count == ReadEvery || s == stepsPerEpoch - 1) window.Read();
                }
            }
            double seconds = clock.Elapsed.TotalSeconds;
            var (meanLoss, accuracy, seen) = window.EpochTotals();
            var stats = new EpochStats(phaseIndex, epoch, phase.Epochs, meanLoss, accuracy,
                lr, seen / Math.Max(seconds, 1e-9), seconds, validate?.Invoke(), grouped.LearningRates());
            history.Add(stats);
            checkpoint?.Save(model, optimizer, new PhaseCheckpoint.State(epoch + 1, history.ToList()), average);
            observer.EpochFinished(stats);
        }
        average?.CopyInto();
        return history;
    }

    /// <summary>
    /// The per-step loss and hit counts of the last few steps, kept on the device until read. Reading copies
    /// them to the host once, checks each loss in step order and adds them to the epoch's totals exactly as
    /// a per-step read would (so epoch losses are bitwise what they were when every step was read).
    /// </summary>
    sealed class StepWindow(int phaseIndex, ITrainingObserver observer)
    {
        readonly List<(long Step, double Lr, int Count, Tensor Loss, Tensor Hits)> _steps = [];
        double _lossSum, _lastFiniteLoss = double.NaN;
        long _correct, _seen;
        int _epoch;

        public int Count => _steps.Count;

        public void StartEpoch(int epoch)
        {
            _epoch = epoch;
            _lossSum = 0;
            _correct = _seen = 0;
        }

        public void Add(long step, double lr, int count, Tensor loss, Tensor hits)
        {
            loss.DetachFromDisposeScope();
            hits.DetachFromDisposeScope();
            _steps.Add((step, lr, count, loss, hits));
        }

        public void Read()
        {
            if (_steps.Count == 0) return;
            float[] losses;
            long hits;
            using (var scope = NewDisposeScope())
            {
                losses = stack(_steps.Select(s => s.Loss).ToArray()).to_type(ScalarType.Float32).cpu().data<float>().ToArray();
                hits = stack(_steps.Select(s => s.Hits).ToArray()).sum().cpu().item<long>();
            }
            var steps = _steps.ToArray();
            foreach (var s in steps) { s.Loss.Dispose(); s.Hits.Dispose(); }
            _steps.Clear();

            double windowLoss = 0;
            int windowImages = 0;
            for (int i = 0; i < steps.Length; i++)
            {
                double value = losses[i];
                if (!double.IsFinite(value))
                    throw new NonFiniteLossException(
                        $"training loss became {value} at phase {phaseIndex + 1}, epoch {_epoch + 1}, step {steps[i].Step} (learning rate {steps[i].Lr:g4}; " +
                        $"read with steps {steps[0].Step}-{steps[^1].Step}); the last finite loss was {_lastFiniteLoss:g4}. Lower train.phases[].lr or check the data.");
                _lastFiniteLoss = value;
                _lossSum += value * steps[i].Count;
                windowLoss += value * steps[i].Count;
                windowImages += steps[i].Count;
            }
            _correct += hits;
            _seen += windowImages;
            observer.StepFinished(windowImages, windowLoss / Math.Max(1, windowImages));
        }

        public (double Loss, double Accuracy, long Seen) EpochTotals() =>
            (_lossSum / Math.Max(1, _seen), (double)_correct / Math.Max(1, _seen), _seen);
    }
}

/// <summary>An observer that ignores progress (benchmarks, tests, headless library use).</summary>
public sealed class NullTrainingObserver : ITrainingObserver
{
    public static readonly NullTrainingObserver Instance = new();
    public void EpochStarted(int phase, int epoch, int epochs, int images) { }
    public void StepFinished(int images, double loss) { }
    public void EpochFinished(EpochStats stats) { }
}
