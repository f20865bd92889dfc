using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace HappyWhale.Pipeline;

/// <summary>
/// One metric of one experiment as measured over several training seeds: the seeds, the value each gave,
/// their mean and sample standard deviation, and the floor under which the allowed drop never shrinks.
/// </summary>
public sealed record Baseline(string Experiment, string Metric, double Mean, double StdDev, double Floor,
    IReadOnlyList<int> Seeds, IReadOnlyList<double> Values)
{
    /// <summary>How far one seed may fall below the mean: 3 sd, but never less than the floor (3 seeds can agree by chance).</summary>
    public double Margin => Math.Max(3 * StdDev, Floor);
    public double Threshold => Mean - Margin;

    /// <summary>The value measured for <paramref name="seed"/>, or null when that seed was not measured.</summary>
    public double? ValueAt(int seed) => Seeds.ToList().IndexOf(seed) is >= 0 and var i ? Values[i] : null;

    /// <summary>A baseline from per-seed values, in seed order.</summary>
    public static Baseline Measured(string experiment, string metric, double floor, IReadOnlyList<(int Seed, double Value)> runs)
    {
        if (runs.Count < 2) throw new ArgumentException("a baseline needs at least two seeds for a standard deviation", nameof(runs));
        var values = runs.Select(r => r.Value).ToList();
        double mean = values.Average();
        double sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
        return new Baseline(experiment, metric, mean, sd, floor, runs.Select(r => r.Seed).ToList(), values);
    }
}

/// <summary>
/// One metric of one experiment, run at one seed and compared with its baseline: by default it fell when it is
/// below mean - max(3 sd, floor); with <paramref name="Exact"/> it must equal the value recorded for its seed bit for bit.
/// </summary>
public sealed record RegressionRow(Baseline Baseline, int Seed, double? Actual, bool Exact = false)
{
    public string Experiment => Baseline.Experiment;
    public string Metric => Baseline.Metric;
    public double? Expected => Exact ? Baseline.ValueAt(Seed) : Baseline.Mean;
    public double? Change => Actual - Expected;

    /// <summary>A drop beyond the margin (or, exact, any difference), or a metric that is no longer produced.</summary>
    public bool Fell => Actual is not { } a || (Exact ? Expected is not { } e || a != e : a < Baseline.Threshold - 1e-12);
}

/// <summary>
/// experiments/ci/baselines.yaml: per experiment, per metric, the mean and sd over the training seeds
/// `--update-baselines` ran, the seeds and their values, and the floor of the allowed drop.
/// Higher is better for every metric here.
/// </summary>
public static class RegressionCheck
{
    public const string BaselinesFile = "baselines.yaml";

    /// <summary>The smallest drop that fails, for a new baseline: about two test queries of the CI experiments turning from right to wrong.</summary>
    public const double DefaultFloor = 0.02;

    public static IReadOnlyList<Baseline> Read(string path)
    {
        if (!File.Exists(path)) return [];
        var stream = new YamlStream();
        try
        {
            using var reader = new StreamReader(path);
            stream.Load(reader);
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new UserException($"{path}:{e.Start.Line}:{e.Start.Column}: not readable YAML ({e.Message}); rewrite it with --update-baselines.");
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root) return [];
        var result = new List<Baseline>();
        foreach (var (experimentNode, metricsNode) in root.Children)
        {
            string experiment = ((YamlScalarNode)experimentNode).Value!;
            if (metricsNode is not YamlMappingNode metrics)
                throw new UserException($"{path}:{experimentNode.Start.Line}: {experiment} must map metric names to {{mean, sd, floor, seeds, values}}.");
            foreach (var (metricNode, specNode) in metrics.Children)
            {
                string metric = ((YamlScalarNode)metricNode).Value!;
                string where = $"{path}:{metricNode.Start.Line}: {experiment}.{metric}";
                if (specNode is not YamlMappingNode spec)
                    throw new UserException($"{where} must be a map of mean, sd, floor, seeds and values.");
                YamlNode? Node(string key) => spec.Children.TryGetValue(new YamlScalarNode(key), out var n) ? n : null;
                if (Node("mean") is null && Node("value") is not null)
                    throw new UserException($"{where} has the old form (value, tolerance: one run compared bit for bit); " +
                                            "measure the seeds with: ./build.sh --target=Regression --update-baselines");
                double Number(YamlNode? n, string key) =>
                    n is YamlScalarNode { Value: { } s } && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
                        ? v : throw new UserException($"{where} needs a number for '{key}'.");
                List<YamlNode> List(string key) =>
                    Node(key) is YamlSequenceNode list ? list.Children.ToList() : throw new UserException($"{where} needs a list for '{key}', e.g. [1, 2, 3].");
                var seeds = List("seeds").Select(n => (int)Number(n, "seeds")).ToList();
                var values = List("values").Select(n => Number(n, "values")).ToList();
                if (seeds.Count != values.Count)
                    throw new UserException($"{where} lists {seeds.Count} seed(s) but {values.Count} value(s); one value per seed.");
                result.Add(new Baseline(experiment, metric, Number(Node("mean"), "mean"), Number(Node("sd"), "sd"), Number(Node("floor"), "floor"), seeds, values));
            }
        }
        return result;
    }

    /// <summary>Rows for every baseline, each with the metric measured at <paramref name="seed"/> of its experiment (null when missing).</summary>
    public static IReadOnlyList<RegressionRow> Compare(IReadOnlyList<Baseline> baselines,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> metricsByExperiment, IReadOnlyDictionary<string, int> seedByExperiment,
        bool exact = false) =>
        baselines.Select(b => new RegressionRow(b, seedByExperiment.TryGetValue(b.Experiment, out int seed) ? seed : -1,
            metricsByExperiment.TryGetValue(b.Experiment, out var m) && m.TryGetValue(b.Metric, out double v) ? v : null, exact)).ToList();

    public static void Write(string path, IReadOnlyList<Baseline> baselines)
    {
        static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        var lines = new List<string>
        {
            "# Regression baselines, measured with ./build.sh --target=Regression --update-baselines, which trains every",
            "# experiment under experiments/ci/ once per seed listed (--seeds=1,2,3; at least 3) on this machine.",
            "# ./build.sh --target=Regression runs one seed (the experiment's train.seed, or --seed=N) and fails a metric below",
            "# mean - max(3 sd, floor): sd is the sample standard deviation over the seeds; the floor keeps a margin when a",
            "# few seeds happen to agree. --exact instead requires the value recorded for the run's seed, bit for bit (a",
            "# reproducibility check: other CPUs, thread counts or libtorch builds change the last bits).",
        };
        foreach (var group in baselines.GroupBy(b => b.Experiment))
        {
            lines.Add($"{group.Key}:");
            foreach (var b in group)
            {
                lines.Add($"  {b.Metric}:");
                lines.Add($"    mean: {F(b.Mean)}");
                lines.Add($"    sd: {F(b.StdDev)}");
                lines.Add($"    floor: {F(b.Floor)}");
                lines.Add($"    seeds: [{string.Join(", ", b.Seeds)}]");
                lines.Add($"    values: [{string.Join(", ", b.Values.Select(F))}]");
            }
        }
        AtomicFile.Write(path, string.Concat(lines.Select(l => l + Environment.NewLine)));
    }
}
