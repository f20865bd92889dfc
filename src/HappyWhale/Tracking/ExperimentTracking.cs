using HappyWhale.Experiments;
using HappyWhale.Pipeline;
using HappyWhale.Training;

namespace HappyWhale.Tracking;

/// <summary>
/// One experiment's MLflow run, live: it listens to the pipeline. Started RUNNING with the flattened experiment as params and
/// its source as tags; each training epoch's metrics as the epoch ends (step = epoch counted across phases); as each stage
/// ends its cache key and outcome as tags (happywhale.key.STAGE, happywhale.cache.STAGE = run or hit, one entry per phase),
/// plus a cached train stage's epochs from its history and the evaluate stage's scores. <see cref="Finish"/> logs the run
/// folder's files (and with tracking.log_model the checkpoint and its resolved.yaml under model/) and ends FINISHED;
/// <see cref="Fail"/> ends FAILED with the error in the tag happywhale.error (<see cref="TrackedRun.Fail"/>).
/// </summary>
public sealed class ExperimentTracking : IPipelineObserver
{
    public const string KeyTagPrefix = "happywhale.key.", CacheTagPrefix = "happywhale.cache.", DeviceTag = "happywhale.device";

    private readonly TrackedRun _run;
    private readonly ResolvedExperiment _experiment;
    private readonly string _repoRoot;
    private readonly HashSet<(int Phase, int Epoch)> _epochs = [];
    private readonly List<StageRun> _stages = [];

    private ExperimentTracking(TrackedRun run, ResolvedExperiment experiment, string repoRoot) => (_run, _experiment, _repoRoot) = (run, experiment, repoRoot);

    public string RunId => _run.RunId;

    public static string ExperimentName(ResolvedExperiment experiment) =>
        Environment.GetEnvironmentVariable("MLFLOW_EXPERIMENT_NAME") is { Length: > 0 } fromEnv ? fromEnv : experiment.Spec.Tracking.Experiment;

    public static string TrackingUri(ResolvedExperiment experiment) =>
        experiment.Spec.Tracking.Uri ?? Environment.GetEnvironmentVariable("MLFLOW_TRACKING_URI") ?? "";

    public static ExperimentTracking Start(TrackingSession session, ResolvedExperiment experiment, string repoRoot, string? parentRunId = null)
    {
        var tags = new Dictionary<string, string> { ["happywhale.experiment_file"] = Relative(repoRoot, experiment.SourcePath) };
        if (GitInfo.Commit(repoRoot) is { } commit) tags[MlflowTags.GitCommit] = commit;
        var run = session.StartRun(ExperimentName(experiment), experiment.Name, tags, parentRunId);
        run.LogParams(experiment.Flatten());
        return new ExperimentTracking(run, experiment, repoRoot);
    }

    /// <summary>The device the run actually used and its hardware name (train.device is only what was asked for).</summary>
    public void DeviceResolved(string device) => _run.SetTag(DeviceTag, device);

    public void EpochFinished(EpochStats e)
    {
        if (!_epochs.Add((e.Phase, e.Epoch))) return;
        long step = _experiment.Spec.Train.Phases.Take(e.Phase).Sum(p => (long)p.Epochs) + e.Epoch;
        _run.LogMetric("train_loss", e.Loss, step);
        _run.LogMetric("train_accuracy", e.Accuracy, step);
        _run.LogMetric("lr", e.LearningRate, step);
        _run.LogMetric("images_per_second", e.ImagesPerSecond, step);
        if (e.ValidationMap5 is { } v) _run.LogMetric("val_map5_epoch", v, step);
        foreach (var (group, rate) in e.GroupLearningRates ?? new Dictionary<string, double>())
            _run.LogMetric($"lr_{group}", rate, step);
    }

    public void StageFinished(StageRun stage)
    {
        _stages.Add(stage);
        var same = _stages.Where(s => s.Stage == stage.Stage).ToList();
        _run.SetTag(KeyTagPrefix + stage.Stage, string.Join(",", same.Select(s => s.Key)));
        _run.SetTag(CacheTagPrefix + stage.Stage, string.Join(",", same.Select(s => s.Outcome == CacheOutcome.Hit ? "hit" : "run")));
        // The epochs a cache hit did not train here, and those a resumed stage trained before it was interrupted.
        if (stage.Stage == StageNames.Train)
            foreach (var e in TrainStage.ReadHistory(stage.Folder)) EpochFinished(e);
        if (stage.Stage == StageNames.Evaluate)
            foreach (var (name, value) in EvaluateStage.ReadMetrics(stage.Folder)) _run.LogMetric(MlflowNames.MetricKey(name), value);
    }

    /// <summary>The run folder's files as artifacts (the model too, with tracking.log_model), then FINISHED.</summary>
    public void Finish(PipelineResult result)
    {
        _run.SetTag("happywhale.run_folder", Relative(_repoRoot, result.RunFolder));
        // A run whose stages ran as cluster jobs learns their device only from the result (the jobs record it).
        if (result.Device.Length > 0) _run.SetTag(DeviceTag, result.Device);
        foreach (var file in Directory.EnumerateFiles(result.RunFolder).Order(StringComparer.Ordinal))
            _run.LogArtifact(file);
        if (_experiment.Spec.Tracking.LogModel && _stages.LastOrDefault(s => s.Stage == StageNames.Train) is { } trained)
        {
            foreach (var file in new[] { TrainStage.ModelFile, TrainStage.ClassesFile, TrainStage.HistoryFile })
                _run.LogArtifact(Path.Combine(trained.Folder, file), "model");
            _run.LogText("model/resolved.yaml", _experiment.ToYaml());
        }
        _run.End(RunStatus.Finished);
    }

    public void Fail(Exception error) => _run.Fail(error);

    private static string Relative(string repoRoot, string path) => Path.GetRelativePath(repoRoot, path).Replace('\\', '/');
}
