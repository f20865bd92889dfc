namespace HappyWhale.Pipeline.Executors;

/// <summary>
/// The local pass after the jobs: every stage is a cache hit (the jobs left their entries there), and
/// each stage a job computed is reported as computed, with the job's compute time, the first time the
/// pass meets it (later meetings are hits), as a local run reports what it computed; the device is the
/// one the jobs ran on. Reports and MLflow runs are then written by the same code as a local run's.
/// </summary>
/// <param name="devices">stage key -> the device its job used ("cuda:0 (NVIDIA A100 ...)")</param>
public sealed class ComputedByJobs(IReadOnlySet<string> keys, IReadOnlyDictionary<string, string> devices) : IStageGate
{
    readonly HashSet<string> _reported = new(StringComparer.Ordinal);

    public bool UsesDevice => false;

    public StageDecision Decide(StageRequest request, string label, StageCache cache) => StageDecision.Cache;

    public StageRun Completed(StageRun run) =>
        run.Outcome == CacheOutcome.Hit && keys.Contains(run.Key) && _reported.Add(run.Key)
            ? run with { Outcome = CacheOutcome.Computed, Duration = TimeSpan.FromSeconds(run.Manifest.Seconds) }
            : run;

    /// <summary>The device of the last stage of the run a job computed (the evaluation, else the last training phase).</summary>
    public string? DeviceOf(IReadOnlyList<StageRun> runs) =>
        runs.Reverse().Select(r => devices.GetValueOrDefault(r.Key)).FirstOrDefault(d => d is not null);
}
