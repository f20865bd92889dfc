namespace HappyWhale.Pipeline.Executors;

/// <summary>
/// The local pass after the jobs: every stage goes through the cache as usual (the jobs left their
/// entries there), and each stage a job computed is reported as computed, with the job's compute
/// time, the first time the pass meets it (later meetings are hits), as a local run reports what it
/// computed. Reports and MLflow runs are then written by the same code as a local run's.
/// </summary>
public sealed class ComputedByJobs(IReadOnlySet<string> keys, PipelineOptions options) : IStageGate
{
    readonly HashSet<string> _reported = new(StringComparer.Ordinal);

    public StageDecision Decide(StageRequest request, string label, StageCache cache) =>
        !keys.Contains(request.Key) && options.Forces(request.Stage) ? StageDecision.Force : StageDecision.Cache;

    public StageRun Completed(StageRun run) =>
        run.Outcome == CacheOutcome.Hit && keys.Contains(run.Key) && _reported.Add(run.Key)
            ? run with { Outcome = CacheOutcome.Computed, Duration = TimeSpan.FromSeconds(run.Manifest.Seconds) }
            : run;
}
