using System.Globalization;
using HappyWhale.Experiments;

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
/// The experiments under experiments/ci/ (small, fixed data), run through the cache and compared with
/// experiments/ci/baselines.yaml. A check runs one training seed; the baselines hold several, so a drop is
/// told from seed noise. An experiment whose data is absent here is skipped, not failed.
/// </summary>
public static class RegressionSuite
{
    public const string Folder = "ci";
    public const int MinSeeds = 3;
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

    /// <summary>The CI experiments a regression check at <paramref name="seed"/> runs (those whose data is here), as it loads them.</summary>
    public static IReadOnlyList<(string Name, ResolvedExperiment Experiment)> Experiments(PipelineOptions options, int? seed, Action<string> log) =>
        ExperimentNames(options.RepoRoot).Select(name => (name, Load(options, name, seed, log))).Where(e => e.Item2 is not null)
            .Select(e => (e.name, e.Item2!)).ToList();

    /// <summary>
    /// Runs every CI experiment once, at <paramref name="seed"/> (null: each experiment's own train.seed), and
    /// compares: below mean - max(3 sd, floor) fails, or with <paramref name="exact"/> any bit of difference from its seed's recorded value.
    /// </summary>
    public static RegressionOutcome Run(PipelineOptions options, int? seed, bool exact, Action<string> log)
    {
        var baselines = RegressionCheck.Read(BaselinesPath(options.RepoRoot));
        var metrics = new Dictionary<string, IReadOnlyDictionary<string, double>>();
        var seeds = new Dictionary<string, int>();
        var skipped = new List<string>();
        foreach (var name in ExperimentNames(options.RepoRoot))
        {
            if (Load(options, name, seed, log) is not { } experiment) { skipped.Add(name); continue; }
            seeds[name] = experiment.Spec.Train.Seed;
            if (exact && baselines.FirstOrDefault(b => b.Experiment == name) is { } b && b.ValueAt(seeds[name]) is null)
                throw new UserException($"--exact compares with the value recorded for the run's seed, and {name}'s baselines hold seeds " +
                                        $"{string.Join(", ", b.Seeds)}, not {seeds[name]}; pass --seed with one of them.");
            metrics[name] = new ExperimentPipeline(experiment, options).Run(StageNames.Evaluate).Metrics;
        }
        var present = baselines.Where(b => !skipped.Contains(b.Experiment)).ToList();
        return new RegressionOutcome(RegressionCheck.Compare(present, metrics, seeds, exact), skipped, metrics);
    }

    /// <summary>
    /// Trains every CI experiment once per seed and writes the baselines: per metric the mean, sd, seeds and values.
    /// Seeds: <paramref name="seeds"/>, else those an experiment's baselines already list, else its train.seed and the
    /// next two. Floors are kept where a baseline existed, else <see cref="RegressionCheck.DefaultFloor"/>; baselines of
    /// experiments skipped here stay as they were.
    /// </summary>
    public static IReadOnlyList<Baseline> UpdateBaselines(PipelineOptions options, IReadOnlyList<int>? seeds, Action<string> log)
    {
        string path = BaselinesPath(options.RepoRoot);
        IReadOnlyList<Baseline> old;
        try { old = RegressionCheck.Read(path); }
        catch (UserException e)
        {
            // Rewriting is the fix the message asks for; only floors and seeds of the old file are lost.
            log($"the old baselines are not read ({e.Message}); they are written anew");
            old = [];
        }
        var result = new List<Baseline>();
        var measured = new HashSet<string>();
        foreach (var name in ExperimentNames(options.RepoRoot))
        {
            if (Load(options, name, null, log) is not { } experiment) continue;
            var runSeeds = seeds ?? old.FirstOrDefault(b => b.Experiment == name)?.Seeds
                ?? Enumerable.Range(experiment.Spec.Train.Seed, MinSeeds).ToList();
            CheckSeeds(runSeeds);
            var runs = new List<(int Seed, IReadOnlyDictionary<string, double> Metrics)>();
            foreach (int seed in runSeeds)
            {
                log($"{name}: seed {seed} ({runs.Count + 1} of {runSeeds.Count})");
                runs.Add((seed, new ExperimentPipeline(Load(options, name, seed, log)!, options).Run(StageNames.Evaluate).Metrics));
            }
            foreach (var metric in DefaultMetrics.Where(m => runs.All(r => r.Metrics.ContainsKey(m))))
            {
                double floor = old.FirstOrDefault(b => b.Experiment == name && b.Metric == metric)?.Floor ?? RegressionCheck.DefaultFloor;
                result.Add(Baseline.Measured(name, metric, floor, runs.Select(r => (r.Seed, r.Metrics[metric])).ToList()));
            }
            measured.Add(name);
        }
        result.AddRange(old.Where(b => !measured.Contains(b.Experiment)));
        RegressionCheck.Write(path, result);
        return result;
    }

    /// <summary>"1,2,3" as given to --seeds.</summary>
    public static IReadOnlyList<int> ParseSeeds(string text)
    {
        var seeds = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            seeds.Add(int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int seed)
                ? seed : throw new UserException($"--seeds={text}: '{part}' is not a seed (a whole number >= 0); e.g. --seeds=1,2,3"));
        CheckSeeds(seeds);
        return seeds;
    }

    static void CheckSeeds(IReadOnlyList<int> seeds)
    {
        if (seeds.Distinct().Count() != seeds.Count || seeds.Count < MinSeeds)
            throw new UserException($"baselines need at least {MinSeeds} different training seeds to estimate the seed noise; got [{string.Join(", ", seeds)}]. " +
                                    "Pass e.g. --seeds=1,2,3.");
    }

    /// <summary>The CI experiment at a training seed (null: its own), or null (and a line logged) when its data is not here.</summary>
    static ResolvedExperiment? Load(PipelineOptions options, string name, int? seed, Action<string> log)
    {
        var experiment = ExperimentLoader.Load(Path.Combine(options.RepoRoot, "experiments"), name,
            seed is { } s ? [string.Create(CultureInfo.InvariantCulture, $"train.seed={s}")] : []);
        if (DataSourceResolver.MissingFolderRoots(experiment.Spec.Data, options.RepoRoot) is not { Count: > 0 } missing) return experiment;
        log($"{name}: skipped, its data is not here ({string.Join(", ", missing)})");
        return null;
    }
}
