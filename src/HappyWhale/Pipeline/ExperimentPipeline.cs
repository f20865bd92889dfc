using System.Text.Json.Nodes;
using HappyWhale.Data;
using HappyWhale.Experiments;
using HappyWhale.Imaging;
using HappyWhale.Modeling;
using HappyWhale.Training;
using TorchSharp;

namespace HappyWhale.Pipeline;

/// <summary>
/// Runs an experiment's stages in order, each through the stage cache:
/// synth (synthetic data only) -> prepare (one per image size) -> train (one per phase) -> evaluate.
/// Every stage is a pure function of its request; this class only wires keys and folders.
/// <paramref name="observer"/> hears of each stage and epoch as it ends. The competition's final steps (pseudo-label rounds,
/// the final fit) are in ExperimentPipeline.FinalSteps.cs.
/// </summary>
public sealed partial class ExperimentPipeline(ResolvedExperiment experiment, PipelineOptions options, IPipelineObserver? observer = null)
{
    /// <summary>The display (options.Display) and this run's listener (<paramref name="observer"/>).</summary>
    readonly IPipelineObserver _observer = new ObserverPair(options.Display, observer);
    readonly StageCache _cache = new(options.CacheRootFor(experiment.Spec), options.VerifyHashes);
    readonly List<StageRun> _runs = [];
    ExperimentSpec Spec => experiment.Spec;

    /// <summary>The spec a stage's computation gets: the experiment's (see <see cref="PipelineOptions.UndeclaredKeys"/>).</summary>
    ExperimentSpec SpecFor(StageDeclaration stage) => stage.SpecFor(experiment, options.UndeclaredKeys);

    public IReadOnlyList<StageRun> Runs => _runs;

    /// <summary>Runs every stage up to and including <paramref name="lastStage"/>.</summary>
    public PipelineResult Run(string lastStage)
    {
        int last = StageNames.All.ToList().IndexOf(lastStage);
        if (last < 0) throw new ArgumentException($"unknown stage {lastStage}");
        // A gate may leave the model stages to other machines (a planner, the report after cluster jobs).
        if (options.Gate?.UsesDevice ?? true) CheckDevice();
        _cache.RemoveStale();
        CheckFinalSteps();

        var source = ResolveSource();
        using var disposeSource = source as IDisposable;
        if (last == 0) return Result([], new Dictionary<string, double>());

        var sizes = Spec.Train.Phases.Select(p => p.ImageSize ?? Spec.Prepare.ImageSize).ToList();
        var prepared = new Dictionary<int, StageRun>();
        foreach (int size in sizes.Append(Spec.Prepare.ImageSize).Distinct())
            prepared[size] = Prepare(source, size);
        if (last == 1) return Result([], new Dictionary<string, double>());
        if (last == 3 && prepared[sizes[^1]].Outcome != CacheOutcome.Deferred)
        {
            EvaluateStage.RequireScorable(prepared[sizes[^1]].Folder);
            EpisodeEvaluation.RequirePossible(Spec, prepared[sizes[^1]].Folder, source);
        }

        StageRun? previous = null;
        var history = new List<EpochStats>();
        // evaluate.models may name only other experiments' models: then this one's is not trained.
        bool ownModel = last == 2 || EvaluateStage.ModelNames(Spec).Contains(EvaluateStage.Self);
        for (int phase = 0; ownModel && phase < sizes.Count; phase++)
        {
            previous = Train(phase, sizes[phase], prepared[sizes[phase]], previous);
            if (previous.Outcome != CacheOutcome.Deferred) history.AddRange(TrainStage.ReadHistory(previous.Folder));
        }
        var own = ownModel ? FinalSteps(source, sizes, prepared, previous!, history) : null;
        if (last == 2) return Result(history, new Dictionary<string, double>());

        var models = EvaluationModels(own);
        var evaluated = Evaluate(source, models, prepared[sizes[^1]]);
        if (evaluated.Outcome == CacheOutcome.Deferred) return Result(history, new Dictionary<string, double>());
        Evaluated = new(models, prepared[sizes[^1]], evaluated);
        return Result(history, EvaluateStage.ReadMetrics(evaluated.Folder));
    }

    PipelineResult Result(IReadOnlyList<EpochStats> history, IReadOnlyDictionary<string, double> metrics)
    {
        // Stages computed by cluster jobs report the device those jobs used.
        if (options.Gate?.DeviceOf(_runs) is { } elsewhere) observer?.DeviceResolved(Device = elsewhere);
        return new(experiment.Name, _runs.ToList(), history, WithRoundMetrics(metrics), "", Device);
    }

    /// <summary>Resolves train.device before any stage runs (a wrong choice stops here), configures it and says what it is.</summary>
    void CheckDevice()
    {
        if (ImageNetPackage.IsRequestedBy(Spec.Model.Pretrained)) ImageNetPackage.Check(Spec.Model.Backbone, ImageNetPackage.ModelsFolder);
        if (Spec.Train.Threads > 0) torch.set_num_threads(Spec.Train.Threads);
        var device = ComputeDevice.Resolve(Spec.Train.Device);
        ComputeDevice.Configure(device, Spec.Train.Precision);
        Device = ComputeDevice.Describe(device);
        _observer.Note($"device: {Device}");
        _observer.DeviceResolved(Device);
    }

    /// <summary>The device the run's models use, with its hardware name ("cpu (Intel Xeon ..., 2 threads)").</summary>
    public string Device { get; private set; } = "";

    IImageSource ResolveSource()
    {
        if (Spec.Data.Source == DataSource.Synthetic)
        {
            var run = Stage(SynthStage.Request(experiment), "synthetic data", folder =>
                _observer.Progress(ctx =>
                {
                    var task = ctx.Add("synth: generating photos", EstimatedSynthImages());
                    return SynthStage.Compute(SpecFor(SynthStage.Declaration).Synth, folder, task.AsRunningTotal());
                }));
            return new KaggleSource(run.Folder, "synth:" + run.Key);
        }
        if (Spec.Data.Source == DataSource.Folder)
            return DataSourceResolver.Folder(Spec.Data, options.RepoRoot);
        // Its fingerprint (a walk of the folder) is computed once, when the first prepare key needs it.
        return DataSourceResolver.Kaggle(Spec.Data, options.RepoRoot);
    }

    int EstimatedSynthImages() => Spec.Synth.Individuals * Spec.Synth.ImagesPerIndividual + Spec.Synth.TestImages;

    StageRun Prepare(IImageSource source, int size)
    {
        var stageSpec = SpecFor(PrepareStage.Declaration(Spec.Data));
        var spec = stageSpec.Prepare with { ImageSize = size };
        var run = Stage(PrepareStage.Request(experiment, size, source.Fingerprint), $"prepare {size}px", folder =>
            _observer.Progress(ctx =>
            {
                IProgressTask? task = null;
                return PrepareStage.Compute(source, spec, stageSpec.Data, folder, total =>
                {
                    task = ctx.Add($"prepare: decoding at {size}px", total);
                    return task.AsRunningTotal();
                });
            }));
        if (_runs.Count(r => r.Stage == StageNames.Prepare) == 1)
            foreach (var line in PrepareStage.ReportLines(run.Manifest.Summary, Spec.Data))
                _observer.Note(line);
        return run;
    }

    StageRun Train(int phase, int size, StageRun prepared, StageRun? previous)
    {
        var weights = ImageNetWeightsFor(previous);
        return Train(TrainStage.Request(experiment, phase, size, prepared.Key, previous?.Key, options.RepoRoot, weights?.Key),
            $"train phase {phase + 1} ({size}px)", Spec, phase, prepared, previous, split: null, weights);
    }

    /// <summary>The converted ImageNet weights a first phase starts from (model.pretrained: imagenet), else null.</summary>
    StageRun? ImageNetWeightsFor(StageRun? previous) =>
        previous is null && ImageNetPackage.IsRequestedBy(Spec.Model.Pretrained) ? ImageNetWeights() : null;

    /// <param name="split">the rows to train on, from the prepared set; null = the fold.</param>
    /// <param name="weights">the converted ImageNet weights the request's key names (a first phase with model.pretrained: imagenet).</param>
    StageRun Train(StageRequest request, string label, ExperimentSpec spec, int phase, StageRun prepared, StageRun? previous,
        Func<PreparedSet, RowSplit>? split, StageRun? weights = null)
    {
        return Stage(request, label, folder =>
        {
            using var images = PreparedSet.Open(prepared.Folder);
            var checkpoint = new PhaseCheckpoint(_cache.WorkFolder(request.Stage, request.Key));
            return _observer.Progress(ctx =>
            {
                var progress = _observer.Training(ctx, "train")!;
                // The final fit trains with its own spec (shorter last phase); the fold's phases with the experiment's.
                var stageSpec = ReferenceEquals(spec, Spec) ? SpecFor(TrainStage.Declaration) : spec;
                return TrainStage.Compute(stageSpec, phase, images, previous?.Folder, folder, progress, checkpoint, options.RepoRoot,
                    weights is null ? null : Path.Combine(weights.Folder, PretrainedStage.WeightsFile), split?.Invoke(images));
            });
        });
    }

    StageRun ImageNetWeights()
    {
        var models = ImageNetPackage.ModelsFolder;
        return Stage(PretrainedStage.Request(Spec.Model.Backbone, models), "imagenet weights", folder =>
            PretrainedStage.Compute(Spec.Model.Backbone, models, folder));
    }

    /// <summary>
    /// The trained models evaluate.models names, in order: "self" is this experiment's last phase; any
    /// other name is loaded from experiments/ and run up to train through the cache (a hit once trained).
    /// </summary>
    IReadOnlyList<EvaluationModel> EvaluationModels(TrainedModel? own)
    {
        var models = new List<EvaluationModel>();
        foreach (var name in EvaluateStage.ModelNames(Spec))
        {
            if (name == EvaluateStage.Self) { models.Add(own!.For(name, Spec.Model)); continue; }
            var other = ExperimentLoader.Load(Path.Combine(options.RepoRoot, "experiments"), name);
            var nested = new ExperimentPipeline(other, options);
            nested.Run(StageNames.Train);
            _runs.AddRange(nested.Runs.Select(r => r with { Label = $"{name}: {r.Label}" }));
            models.Add(nested.Trained!.For(name, other.Spec.Model));
        }
        return models;
    }

    StageRun Evaluate(IImageSource source, IReadOnlyList<EvaluationModel> models, StageRun prepared)
    {
        var request = EvaluateStage.Request(experiment, models, prepared.Key);
        return Stage(request, "evaluate", folder =>
        {
            using var images = PreparedSet.Open(prepared.Folder);
            return _observer.Progress(ctx =>
            {
                var task = ctx.Add("evaluate: embeddings", images.Count);
                return EvaluateStage.Compute(SpecFor(EvaluateStage.Declaration), images, models, source, folder, n => task.Increment(n));
            });
        });
    }

    StageRun Stage(StageRequest request, string label, Func<string, JsonObject> compute)
    {
        var decision = options.Gate?.Decide(request, label, _cache) ?? (options.Forces(request.Stage) ? StageDecision.Force : StageDecision.Cache);
        if (decision == StageDecision.Defer)
        {
            var deferred = new StageRun(request.Stage, label, request.Key, CacheOutcome.Deferred, TimeSpan.Zero,
                _cache.EntryFolder(request.Stage, request.Key), CacheManifest.Pending(request));
            _runs.Add(deferred);
            return deferred;
        }
        var entry = _cache.GetOrCompute(request, compute, decision == StageDecision.Force, _observer.Note);
        var run = new StageRun(request.Stage, label, entry.Key, entry.Outcome, entry.Elapsed, entry.Folder, entry.Manifest);
        if (options.Gate is not null) run = options.Gate.Completed(run);
        _runs.Add(run);
        _observer.StageFinished(run);
        return run;
    }

    /// <summary>
    /// The folder of a stage whose outputs the walk needs to go on (a later key depends on them). A deferred stage
    /// not in the cache yet has none: the planner stops this experiment's walk there and plans the rest once it has.
    /// </summary>
    string OutputsOf(StageRun run) =>
        run.Outcome == CacheOutcome.Deferred && CacheManifest.TryRead(run.Folder)?.Key != run.Key ? throw new StageOutputsPending(run) : run.Folder;
}
