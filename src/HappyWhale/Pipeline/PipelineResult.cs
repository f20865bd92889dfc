using HappyWhale.Training;

namespace HappyWhale.Pipeline;

/// <summary>One stage as it happened in this run: computed or served from the cache.</summary>
public sealed record StageRun(string Stage, string Label, string Key, CacheOutcome Outcome, TimeSpan Duration, string Folder, CacheManifest Manifest)
{
    public string ShortKey => Key[..12];
}

/// <summary>What an experiment run produced: the stages, the training history and the final metrics.</summary>
public sealed record PipelineResult(
    string ExperimentName,
    IReadOnlyList<StageRun> Stages,
    IReadOnlyList<EpochStats> History,
    IReadOnlyDictionary<string, double> Metrics,
    string RunFolder,
    string Device = "")
{
    public StageRun? Last(string stage) => Stages.LastOrDefault(s => s.Stage == stage);
}
