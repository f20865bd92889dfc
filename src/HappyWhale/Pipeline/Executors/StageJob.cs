using TorchSharp;

namespace HappyWhale.Pipeline.Executors;

/// <summary>
/// What a Slurm job runs (`happywhale stage --stages FILE --index N`): loads the experiment the
/// planned stage belongs to, walks its pipeline and computes that one key into the shared cache.
/// </summary>
public static class StageJob
{
    /// <param name="display">where the stage shows its progress (the job's log); silent when null.</param>
    public static StageRun Run(string stagesPath, int index, Action<string> log, IPipelineObserver? display = null)
    {
        var plan = SlurmSubmission.ReadStages(stagesPath);
        if (index < 0 || index >= plan.Stages.Count)
            throw new UserException($"{stagesPath} plans stages 0 to {plan.Stages.Count - 1}; there is no stage {index}.");
        var stage = plan.Stages[index];
        var experiment = stage.Experiment.Load(plan.RepoRoot);
        log($"job: {stage.Label}, {stage.Stage}/{stage.ShortKey}, for {string.Join(", ", stage.UsedBy)} (from {stage.Experiment})");

        // train.threads 0 means "all cores": on a shared node that is the cores Slurm gave this job.
        if (experiment.Spec.Train.Threads == 0 &&
            int.TryParse(Environment.GetEnvironmentVariable("SLURM_CPUS_PER_TASK"), out int cpus) && cpus > 0)
            torch.set_num_threads(cpus);

        var gate = new SingleStageGate(stage.Key, stage.Force, stage.Stage);
        var options = new PipelineOptions(plan.RepoRoot) { Gate = gate, Display = display ?? SilentObserver.Instance };
        string cacheRoot = Path.GetFullPath(options.CacheRootFor(experiment.Spec));
        if (cacheRoot != Path.GetFullPath(stage.CacheRoot))
            throw new UserException($"this job's cache is {cacheRoot}, the submitting command planned {stage.CacheRoot}; " +
                                    "cache.root must name the same folder on every node (docs/slurm.md).");
        var pipeline = new ExperimentPipeline(experiment, options);
        // Past its stage the walk may need outputs later jobs compute; the job's own work is done by then.
        try { pipeline.Run(stage.LastStage); }
        catch (StageOutputsPending) when (gate.Target is not null) { }
        if (!gate.Reached || gate.Target is null)
            throw new UserException($"{stage.Experiment} no longer has the stage {stage.Stage}/{stage.ShortKey} ({stage.Label}): " +
                                    "the experiment files or the program changed after the jobs were submitted; submit again.");
        // For the MLflow run the submitting command writes: where this stage ran.
        if (pipeline.Device.Length > 0) AtomicFile.Write(SlurmSubmission.DeviceFile(stagesPath, index), pipeline.Device);
        log(gate.Target.Outcome == CacheOutcome.Hit
            ? $"job done: {stage.Stage}/{stage.ShortKey} was already cached (another run computed it)"
            : $"job done: {stage.Stage}/{stage.ShortKey} computed in {gate.Target.Duration.TotalSeconds:F1} s");
        return gate.Target;
    }
}
