namespace HappyWhale.Pipeline;

/// <summary>How to run an experiment: where the repository is, and which stages to recompute.</summary>
/// <param name="Force">null: use the cache; empty: recompute every stage; otherwise the stage names to recompute.</param>
public sealed record PipelineOptions(string RepoRoot, IReadOnlySet<string>? Force = null, bool VerifyHashes = false)
{
    public string ArtifactsRoot => Path.Combine(RepoRoot, "artifacts");
    public string CacheRoot => Path.Combine(ArtifactsRoot, "cache");
    public string RunsRoot => Path.Combine(ArtifactsRoot, "runs");

    public bool Forces(string stage) => Force is not null && (Force.Count == 0 || Force.Contains(stage));

    /// <summary>
    /// Where every pipeline this command runs shows its progress and notes (the Cli passes the console); silent by
    /// default. A run's own listener (its MLflow run) is given to that run's <see cref="ExperimentPipeline"/> instead.
    /// </summary>
    public IPipelineObserver Display { get; init; } = SilentObserver.Instance;

    /// <summary>
    /// Null: every stage computes with the experiment's spec. Set (by the declarations test): each stage computes with a
    /// spec in which every key its <see cref="StageDeclaration"/> does not list is replaced by what this returns, so a
    /// computation that reads an undeclared key writes other outputs than its cache key promises.
    /// </summary>
    public Func<string, System.Text.Json.Nodes.JsonNode?, System.Text.Json.Nodes.JsonNode?>? UndeclaredKeys { get; init; }

    /// <summary>Set by an executor that takes stages out of this process (see <see cref="IStageGate"/>); null = compute here.</summary>
    public IStageGate? Gate { get; init; }

    /// <summary>The experiment's cache.root (relative to the repository), or artifacts/cache.</summary>
    public string CacheRootFor(HappyWhale.Experiments.ExperimentSpec spec) =>
        string.IsNullOrWhiteSpace(spec.Cache?.Root) ? CacheRoot : RepoPath.Resolve(spec.Cache.Root, RepoRoot);

    /// <summary>Parses --force (all stages) or --force=train,evaluate.</summary>
    public static IReadOnlySet<string>? ParseForce(string? value)
    {
        if (value is null) return null;
        if (value is "" or "true") return new HashSet<string>();
        var stages = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        var unknown = stages.Except(StageNames.Forceable).ToList();
        if (unknown.Count > 0)
            throw new UserException($"--force={value}: unknown stage {string.Join(", ", unknown)}; stages are {string.Join(", ", StageNames.Forceable)}.");
        return stages;
    }
}

public static class StageNames
{
    public const string Synth = "synth", Prepare = "prepare", Train = "train", Evaluate = "evaluate";
    /// <summary>The converted ImageNet weights (model.pretrained: imagenet), computed once before the first train phase.</summary>
    public const string Pretrained = "pretrained";
    /// <summary>Pseudo-labelling rounds run inside train (between its rounds), so a run cannot stop after one.</summary>
    public const string PseudoLabel = "pseudo_label";
    /// <summary>The stages a run can stop after, in order.</summary>
    public static readonly IReadOnlyList<string> All = [Synth, Prepare, Train, Evaluate];
    public static readonly IReadOnlyList<string> Forceable = [Synth, Prepare, Pretrained, Train, PseudoLabel, Evaluate];
}
