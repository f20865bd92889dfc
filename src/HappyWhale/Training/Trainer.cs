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
    /// <param name="checkpoint">where end-of-epoch checkpoints go; an existing one is resumed from.</param>
    /// <param name="validate">scores the model after an epoch (validation MAP@5), or null to skip.</param>
    public IReadOnlyList<EpochStats> RunPhase(ReidModel model, IImageBatches images, LabelledRows data, PhaseSpec phase, int phaseIndex,
        PhaseCheckpoint? checkpoint = null, Func<double?>? validate = null)
    {
        int batchSize = Math.Min(phase.BatchSize ?? spec.BatchSize, data.Rows.Count);
        // BatchNorm cannot train on a batch of one image: a trailing single image is dropped.
        int stepsPerEpoch = data.Rows.Count / batchSize + (data.Rows.Count % batchSize >= 2 ? 1 : 0);
        var schedule = LearningRateSchedules.For(spec, phase.Lr, stepsPerEpoch, phase.Epochs);
        var augment = new TensorAugment(spec.Augment);
        using var grouped = new GroupedOptimizer(model, spec, earlyUntil, phase.Lr);
        var optimizer = grouped.Optimizer;
        int accumulate = Math.Max(1, spec.Accumulate);

        using var classMargins = data.ClassMargins is null ? null : tensor(data.ClassMargins.ToArray());
        bool speciesLoss = model.SpeciesHead is not null && data.SpeciesLabels is not null && model.SpeciesLossWeight > 0;

        var history = new List<EpochStats>();
        int firstEpoch = 0;
        if (checkpoint?.TryRestore(model, optimizer) is { } restored)
        {
            firstEpoch = restored.EpochsDone;
            history.AddRange(restored.History);
            observer.Resumed(phaseIndex, firstEpoch, phase.Epochs);
        }
        double lastFiniteLoss = double.NaN;
        for (int epoch = firstEpoch; epoch < phase.Epochs; epoch++)
        {
            // Every random draw of an epoch comes from seeds of (seed, phase, epoch): a resumed run
            // replays exactly the epochs an uninterrupted run would have.
            long epochSeed = spec.Seed * 1_000_003L + phaseIndex * 10_007L + epoch;
            torch.manual_seed(epochSeed);
            using var generator = new Generator((ulong)epochSeed, CPU);
            var permutation = Enumerable.Range(0, data.Rows.Count).ToArray();
            new Random((int)(epochSeed % int.MaxValue)).Shuffle(permutation);

            model.train();
            grouped.ApplyFreezing(epoch);
            observer.EpochStarted(phaseIndex, epoch, phase.Epochs, stepsPerEpoch * batchSize);
            var clock = Stopwatch.StartNew();
            double lossSum = 0, lr = 0;
            long correct = 0, seen = 0;
            for (int s = 0; s < stepsPerEpoch; s++)
            {
                long step = (long)epoch * stepsPerEpoch + s;
                using var scope = NewDisposeScope();
                var batch = permutation.Skip(s * batchSize).Take(batchSize).ToArray();
                var rows = batch.Select(i => data.Rows[i]).ToArray();
                var labels = tensor(batch.Select(i => data.Labels[i]).ToArray());
                lr = schedule.At(step);
                grouped.SetLearningRate(lr);

                var x = InputNormalization.Apply(model, augment.Apply(images.ReadBatch(rows), generator));
                var embeddings = model.forward(x);
                var logits = model.Logits(embeddings, labels, classMargins);
                var loss = nn.functional.cross_entropy(logits, labels, label_smoothing: spec.LabelSmoothing);
                if (speciesLoss)
                {
                    var species = tensor(batch.Select(i => data.SpeciesLabels![i]).ToArray());
                    var speciesLogits = model.SpeciesLogits(embeddings, species);
                    loss = loss + nn.functional.cross_entropy(speciesLogits, species, label_smoothing: spec.LabelSmoothing).mul(Scalars.Of(model.SpeciesLossWeight));
                }
                double lossValue = loss.item<float>();
                if (!double.IsFinite(lossValue))
                    throw new NonFiniteLossException(
                        $"training loss became {lossValue} at phase {phaseIndex + 1}, epoch {epoch + 1}, step {step} (learning rate {lr:g4}); " +
                        $"the last finite loss was {lastFiniteLoss:g4}. Lower train.phases[].lr or check the data.");
                lastFiniteLoss = lossValue;
                // Gradient accumulation: sum the gradients of `accumulate` batches, then one step.
                if (s % accumulate == 0) optimizer.zero_grad();
                (accumulate > 1 ? loss.div(Scalars.Of(accumulate)) : loss).backward();
                if ((s + 1) % accumulate == 0 || s == stepsPerEpoch - 1) optimizer.step();

                lossSum += lossValue * rows.Length;
                correct += logits.argmax(1).eq(labels).sum().item<long>();
                seen += rows.Length;
                observer.StepFinished(rows.Length, lossValue);
            }
            double seconds = clock.Elapsed.TotalSeconds;
            var stats = new EpochStats(phaseIndex, epoch, phase.Epochs, lossSum / Math.Max(1, seen), (double)correct / Math.Max(1, seen),
                lr, seen / Math.Max(seconds, 1e-9), seconds, validate?.Invoke(), grouped.LearningRates());
            history.Add(stats);
            checkpoint?.Save(model, optimizer, new PhaseCheckpoint.State(epoch + 1, history.ToList()));
            observer.EpochFinished(stats);
        }
        return history;
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
