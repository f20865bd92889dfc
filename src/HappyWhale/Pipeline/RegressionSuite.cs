using HappyWhale.Experiments;
using HappyWhale.Reporting;

namespace HappyWhale.Pipeline;

/// <summary>What a regression run measured and how it compares with the baselines.</summary>
public sealed record RegressionOutcome(
    IReadOnlyList<RegressionRow> Rows,
    IReadOnlyList<string> Skipped,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> Metrics)
{
    public bool Failed => Rows.Any(r => r.Fell);
}

/// <summary>
/// The experiments under experiments/ci/ (small, fixed seeds), run through the cache and compared
/// with experiments/ci/baselines.yaml. An experiment whose data is absent here is skipped, not failed.
/// </summary>
public static class RegressionSuite
{
    public const string Folder = "ci";
    public static readonly IReadOnlyList<string> DefaultMetrics = ["val_map5", "test_map5"];

    public static string BaselinesPath(string repoRoot) => Path.Combine(repoRoot, "experiments", Folder, RegressionCheck.BaselinesFile);

    public static IReadOnlyList<string> ExperimentNames(string repoRoot)
    {
        string dir = Path.Combine(repoRoot, "experiments", Folder);
        if (!Directory.Exists(dir)) return [];
        return Directory.GetFiles(dir, "*.yaml")
            .Where(f => Path.GetFileName(f) != RegressionCheck.BaselinesFile)
            .Select(f => $"{Folder}/{Path.GetFileNameWithoutExtension(f)}")
            .Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Each experiment under experiments/ci/, loaded, with the data folders it names that are not here (skipped when any).</summary>
    public static IEnumerable<(string Name, ResolvedExperiment Experiment, IReadOnlyList<string> Missing)> Experiments(string repoRoot)
    {
        foreach (var name in ExperimentNames(repoRoot))
        {
            var experiment = ExperimentLoader.Load(Path.Combine(repoRoot, "experiments"), name);
            yield return (name, experiment, DataSourceResolver.MissingFolderRoots(experiment.Spec.Data, repoRoot));
        }
    }

    public static RegressionOutcome Run(PipelineOptions options, Action<string> log)
    {
        var baselines = RegressionCheck.Read(BaselinesPath(options.RepoRoot));
        var metrics = new Dictionary<string, IReadOnlyDictionary<string, double>>();
        var skipped = new List<string>();
        foreach (var (name, experiment, missing) in Experiments(options.RepoRoot))
        {
            if (missing.Count > 0)
            {
                skipped.Add(name);
                log($"{name}: skipped, its data is not here ({string.Join(", ", missing)})");
                continue;
            }
            metrics[name] = new ExperimentPipeline(experiment, options).Run(StageNames.Evaluate).Metrics;
        }
        var present = baselines.Where(b => !skipped.Contains(b.Experiment)).ToList();
        return new RegressionOutcome(RegressionCheck.Compare(present, metrics), skipped, metrics);
    }

    /// <summary>New baselines from measured metrics: tolerances and notes kept where a baseline existed, else 0.</summary>
    public static IReadOnlyList<Baseline> Updated(IReadOnlyList<Baseline> old, IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> metrics)
    {
        var result = new List<Baseline>();
        foreach (var (experiment, values) in metrics.OrderBy(m => m.Key, StringComparer.Ordinal))
            foreach (var metric in DefaultMetrics.Where(values.ContainsKey))
            {
                var previous = old.FirstOrDefault(b => b.Experiment == experiment && b.Metric == metric);
                result.Add(new Baseline(experiment, metric, values[metric], previous?.Tolerance ?? 0, previous?.Note ?? ""));
            }
        // Baselines of experiments skipped here stay as they were.
        result.AddRange(old.Where(b => !metrics.ContainsKey(b.Experiment)));
        return result;
    }
}
