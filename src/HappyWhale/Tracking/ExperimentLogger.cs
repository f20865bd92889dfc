using HappyWhale.Experiments;
using HappyWhale.Pipeline;
using HappyWhale.Reporting;

namespace HappyWhale.Tracking;

/// <summary>
/// Records an experiment run in MLflow: params = the flattened resolved experiment, tags = cache
/// keys and git commit, metrics = per-epoch training curves and the final scores, artifacts =
/// resolved.yaml, metrics.json, submission.csv.
/// </summary>
public static class ExperimentLogger
{
    public const string KeyTagPrefix = "happywhale.key.";
    /// <summary>The device the run actually used and its hardware name (train.device is only what was asked for).</summary>
    public const string DeviceTag = "happywhale.device";

    public static string ExperimentName(ResolvedExperiment experiment) =>
        Environment.GetEnvironmentVariable("MLFLOW_EXPERIMENT_NAME") is { Length: > 0 } fromEnv ? fromEnv : experiment.Spec.Tracking.Experiment;

    public static string TrackingUri(ResolvedExperiment experiment) =>
        experiment.Spec.Tracking.Uri ?? Environment.GetEnvironmentVariable("MLFLOW_TRACKING_URI") ?? "";

    public static ITrackedRun Log(ITracker tracker, ResolvedExperiment experiment, PipelineResult result, string repoRoot, string? parentRunId = null)
    {
        var tags = new Dictionary<string, string>
        {
            ["happywhale.experiment_file"] = Path.GetRelativePath(repoRoot, experiment.SourcePath).Replace('\\', '/'),
            ["happywhale.run_folder"] = Path.GetRelativePath(repoRoot, result.RunFolder).Replace('\\', '/'),
        };
        if (GitInfo.Commit(repoRoot) is { } commit) tags[MlflowTags.GitCommit] = commit;
        if (result.Device.Length > 0) tags[DeviceTag] = result.Device;
        foreach (var stage in result.Stages.GroupBy(s => s.Stage))
            tags[KeyTagPrefix + stage.Key] = string.Join(",", stage.Select(s => s.Key));
        var run = tracker.StartRun(ExperimentName(experiment), experiment.Name, tags, parentRunId);
        try
        {
            run.LogParams(experiment.Flatten());
            long epoch = 0;
            foreach (var e in result.History)
            {
                run.LogMetric("train_loss", e.Loss, epoch);
                run.LogMetric("train_accuracy", e.Accuracy, epoch);
                run.LogMetric("lr", e.LearningRate, epoch);
                run.LogMetric("images_per_second", e.ImagesPerSecond, epoch);
                if (e.ValidationMap5 is { } v) run.LogMetric("val_map5_epoch", v, epoch);
                foreach (var (group, rate) in e.GroupLearningRates ?? new Dictionary<string, double>())
                    run.LogMetric($"lr_{group}", rate, epoch);
                epoch++;
            }
            foreach (var (name, value) in result.Metrics) run.LogMetric(name, value);
            foreach (var file in new[] { RunFolder.ResolvedFile, EvaluateStage.MetricsFile, EvaluateStage.SubmissionFile })
                if (File.Exists(Path.Combine(result.RunFolder, file))) run.LogArtifact(Path.Combine(result.RunFolder, file));
            run.End(RunStatus.Finished);
        }
        catch
        {
            run.End(RunStatus.Failed);
            throw;
        }
        return run;
    }
}
