using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace HappyWhale.Reporting;

/// <summary>One metric's expected value and how far it may fall before CI fails.</summary>
public sealed record Baseline(string Experiment, string Metric, double Value, double Tolerance, string Note);

/// <summary>One metric of one experiment, compared with its baseline.</summary>
public sealed record RegressionRow(string Experiment, string Metric, double Baseline, double Tolerance, double? Actual)
{
    public double? Change => Actual - Baseline;
    /// <summary>A drop beyond the tolerance, or a metric that is no longer produced.</summary>
    public bool Fell => Actual is not { } a || a < Baseline - Tolerance - 1e-12;
}

/// <summary>
/// experiments/ci/baselines.yaml: per experiment, per metric, the value and the tolerance
/// (and a note with the measured run-to-run spread). Higher is better for every metric here.
/// </summary>
public static class RegressionCheck
{
    public const string BaselinesFile = "baselines.yaml";

    public static IReadOnlyList<Baseline> Read(string path)
    {
        if (!File.Exists(path)) return [];
        var stream = new YamlStream();
        using (var reader = new StreamReader(path)) stream.Load(reader);
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root) return [];
        var result = new List<Baseline>();
        foreach (var (experimentNode, metricsNode) in root.Children)
        {
            string experiment = ((YamlScalarNode)experimentNode).Value!;
            if (metricsNode is not YamlMappingNode metrics)
                throw new UserException($"{path}:{experimentNode.Start.Line}: {experiment} must map metric names to {{value, tolerance}}.");
            foreach (var (metricNode, specNode) in metrics.Children)
            {
                string metric = ((YamlScalarNode)metricNode).Value!;
                if (specNode is not YamlMappingNode spec)
                    throw new UserException($"{path}:{metricNode.Start.Line}: {experiment}.{metric} must be {{value: x, tolerance: y}}.");
                double Number(string key) =>
                    spec.Children.TryGetValue(new YamlScalarNode(key), out var n) && n is YamlScalarNode s
                    && double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
                        ? v
                        : throw new UserException($"{path}:{specNode.Start.Line}: {experiment}.{metric} needs a numeric '{key}'.");
                string note = spec.Children.TryGetValue(new YamlScalarNode("note"), out var noteNode) ? ((YamlScalarNode)noteNode).Value ?? "" : "";
                result.Add(new Baseline(experiment, metric, Number("value"), Number("tolerance"), note));
            }
        }
        return result;
    }

    public static IReadOnlyList<RegressionRow> Compare(IReadOnlyList<Baseline> baselines, IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> metricsByExperiment) =>
        baselines.Select(b => new RegressionRow(b.Experiment, b.Metric, b.Value, b.Tolerance,
            metricsByExperiment.TryGetValue(b.Experiment, out var m) && m.TryGetValue(b.Metric, out double v) ? v : null)).ToList();

    /// <summary>Rewrites the baselines with the values just measured, keeping tolerances and notes.</summary>
    public static void Write(string path, IReadOnlyList<Baseline> baselines)
    {
        var lines = new List<string>
        {
            "# Regression baselines: ./build.sh --target=Regression compares each metric with `value` and fails when it",
            "# falls by more than `tolerance`. Rewrite on purpose with --update-baselines. `note` records the measured",
            "# run-to-run spread the tolerance is based on (the tolerance is never wider than that spread).",
        };
        foreach (var group in baselines.GroupBy(b => b.Experiment))
        {
            lines.Add($"{group.Key}:");
            foreach (var b in group)
            {
                lines.Add($"  {b.Metric}:");
                lines.Add($"    value: {b.Value.ToString("R", CultureInfo.InvariantCulture)}");
                lines.Add($"    tolerance: {b.Tolerance.ToString("R", CultureInfo.InvariantCulture)}");
                if (b.Note.Length > 0) lines.Add($"    note: \"{b.Note.Replace("\"", "'")}\"");
            }
        }
        AtomicFile.Write(path, string.Concat(lines.Select(l => l + Environment.NewLine)));
    }
}
