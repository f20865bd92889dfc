namespace HappyWhale.Pipeline;

/// <summary>What the pipeline does with one stage.</summary>
public enum StageDecision
{
    /// <summary>Through the cache: a hit, or computed here.</summary>
    Cache,
    /// <summary>Computed here even when cached (--force).</summary>
    Force,
    /// <summary>Not run in this process: the stage's key is wired on, its outputs are not read.</summary>
    Defer,
}

/// <summary>
/// The walk needs the outputs of a deferred stage to go on: a later stage's key depends on them (the final fit's
/// epochs come from the fold run's history). A planner plans the stages after it once it has been computed.
/// </summary>
public sealed class StageOutputsPending(StageRun stage)
    : Exception($"{stage.Label} ({stage.Stage}/{stage.ShortKey}) must be computed before the stages after it can be planned")
{
    public StageRun Stage { get; } = stage;
}

/// <summary>
/// Lets an executor decide, stage by stage, what this process computes. The pipeline still walks
/// every stage and derives every key, so a planner can record the stage graph without computing
/// anything, and a cluster job can compute exactly one key of it.
/// </summary>
public interface IStageGate
{
    StageDecision Decide(StageRequest request, string label, StageCache cache);

    /// <summary>Whether this process resolves and configures train.device (it may train or embed here).</summary>
    bool UsesDevice { get; }

    /// <summary>The device to report for a run whose stages ran elsewhere; null: this process's.</summary>
    string? DeviceOf(IReadOnlyList<StageRun> runs) => null;

    /// <summary>Sees (and may relabel) each stage the pipeline ran, hit or computed.</summary>
    StageRun Completed(StageRun run) => run;
}
