using System.Globalization;
using System.Text;
using HappyWhale.Experiments;
using HappyWhale.Pipeline;

namespace HappyWhale.Reporting;

/// <summary>One row of an ablation report: a variant's metric over its seeds, against the reference variant.</summary>
public sealed record AblationRow(string Variant, IReadOnlyList<string> Changes, int Seeds, double Mean, double StdDev, double Delta,
    double Noise, bool? Significant, double TrainSeconds, IReadOnlyList<double> Values);

/// <summary>
/// Summarises an ablation: mean and standard deviation of the metric over seeds, the difference
/// from the reference, and whether that difference exceeds the seed noise (|delta| > 2 x the
/// standard error of the difference, about 95%; undecided with a single seed). Writes report.md
/// with two PNG charts: the metric per variant with error bars, and validation MAP@5 per epoch.
/// </summary>
public static class AblationReport
{
    public const string ReportFile = "report.md", MetricChart = "map5.png", CurveChart = "val_curves.png";

    public static IReadOnlyList<AblationRow> Summarise(AblationSpec ablation, IReadOnlyList<AblationRun> runs)
    {
        var stats = ablation.Variants.ToDictionary(v => v.Name, v =>
        {
            var values = runs.Where(r => r.Variant == v.Name && r.Result.Metrics.ContainsKey(ablation.Metric))
                .Select(r => r.Result.Metrics[ablation.Metric]).ToList();
            return (Values: values, Mean: values.Count > 0 ? values.Average() : double.NaN, Sd: StdDev(values));
        });
        return ablation.Variants.Select(v =>
        {
            string reference = ablation.ReferenceOf(v.Name);
            var baseStats = stats[reference];
            var s = stats[v.Name];
            double noise = Math.Sqrt(Sq(s.Sd) / Math.Max(1, s.Values.Count) + Sq(baseStats.Sd) / Math.Max(1, baseStats.Values.Count));
            bool? significant = v.Name == reference || s.Values.Count < 2 || baseStats.Values.Count < 2 ? null : Math.Abs(s.Mean - baseStats.Mean) > 2 * noise;
            double seconds = runs.Where(r => r.Variant == v.Name).Select(r => r.TrainSeconds).DefaultIfEmpty(0).Average();
            return new AblationRow(v.Name, v.Changes, s.Values.Count, s.Mean, s.Sd, s.Mean - baseStats.Mean, noise, significant, seconds, s.Values);
        }).ToList();
    }

    static double Sq(double x) => x * x;

    static double StdDev(IReadOnlyList<double> values)
    {
        if (values.Count < 2) return 0;
        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => Sq(v - mean)) / (values.Count - 1));
    }

    public static string Write(string folder, AblationSpec ablation, IReadOnlyList<AblationRun> runs, IReadOnlyList<AblationRow> rows)
    {
        Directory.CreateDirectory(folder);
        WriteMetricChart(Path.Combine(folder, MetricChart), ablation.Metric, rows);
        WriteCurveChart(Path.Combine(folder, CurveChart), ablation, runs);
        string path = Path.Combine(folder, ReportFile);
        File.WriteAllText(path, Markdown(ablation, rows) + RoundsMarkdown(ablation, runs));
        return path;
    }

    /// <summary>Variants with pseudo-label rounds: per round, photos added, labels right and validation MAP@5, each a mean over seeds.</summary>
    public static string RoundsMarkdown(AblationSpec ablation, IReadOnlyList<AblationRun> runs)
    {
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        foreach (var variant in ablation.Variants)
        {
            var metrics = runs.Where(r => r.Variant == variant.Name && r.Result.Metrics.ContainsKey("pseudo_round0_val_map5")).Select(r => r.Result.Metrics).ToList();
            if (metrics.Count == 0) continue;
            if (md.Length == 0)
                md.AppendLine().AppendLine("## Pseudo-label rounds").AppendLine()
                  .AppendLine("Round 0 is the model before any pseudo-label; means over seeds (± sd for MAP@5).").AppendLine()
                  .AppendLine("| variant | round | test photos added | labels right | validation MAP@5 |").AppendLine("|---|---|---|---|---|");
            for (int round = 0; metrics.Any(m => m.ContainsKey($"pseudo_round{round}_val_map5")); round++)
            {
                string Mean(string key, Func<double, string> format) =>
                    metrics.Where(m => m.ContainsKey(key)).Select(m => m[key]).ToList() is { Count: > 0 } v ? format(v.Average()) : "—";
                var map = metrics.Where(m => m.ContainsKey($"pseudo_round{round}_val_map5")).Select(m => m[$"pseudo_round{round}_val_map5"]).ToList();
                md.AppendLine(string.Create(inv, $"| {variant.Name} | {round} | {Mean($"pseudo_round{round}_added", a => a.ToString("F1", inv))} | {Mean($"pseudo_round{round}_accuracy", a => (100 * a).ToString("F0", inv) + "%")} | {map.Average():F4} ± {StdDev(map):F4} |"));
            }
        }
        return md.ToString();
    }

    public static string Markdown(AblationSpec ablation, IReadOnlyList<AblationRow> rows)
    {
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine($"# Ablation `{ablation.Name}`").AppendLine();
        md.AppendLine($"Base experiment `{ablation.Base}`; metric `{ablation.Metric}`; seeds {(ablation.Seeds.Count == 0 ? "(the base's)" : string.Join(", ", ablation.Seeds))}. " +
                      "A difference is called significant when it exceeds twice the standard error of the difference over seeds.").AppendLine();
        bool ownReferences = ablation.References is { Count: > 0 };
        md.AppendLine($"| variant | changes | {ablation.Metric} (mean ± sd) | Δ vs {(ownReferences ? "reference" : "base")} | beyond seed noise? | train time |");
        md.AppendLine("|---|---|---|---|---|---|");
        foreach (var r in rows)
        {
            string changes = r.Changes.Count == 0 ? "—" : string.Join("<br>", r.Changes.Select(c => $"`{c}`"));
            string delta = r.Significant is null && r.Delta == 0 ? "—" : r.Delta.ToString("+0.0000;-0.0000;0.0000", inv);
            if (ownReferences && delta != "—") delta += $" vs {ablation.ReferenceOf(r.Variant)}";
            string verdict = r.Significant switch { true => "**yes**", false => "no", null => r.Delta == 0 ? "—" : "n/a (one seed)" };
            md.AppendLine(string.Create(inv, $"| {r.Variant} | {changes} | {r.Mean:F4} ± {r.StdDev:F4} | {delta} | {verdict} | {r.TrainSeconds:F0} s |"));
        }
        md.AppendLine().AppendLine($"![{ablation.Metric} per variant]({MetricChart})").AppendLine();
        md.AppendLine($"![validation MAP@5 per epoch]({CurveChart})");
        return md.ToString();
    }

    static void WriteMetricChart(string path, string metric, IReadOnlyList<AblationRow> rows)
    {
        var plot = new ScottPlot.Plot();
        var bars = rows.Select((r, i) => new ScottPlot.Bar { Position = i, Value = double.IsNaN(r.Mean) ? 0 : r.Mean, Error = r.StdDev }).ToArray();
        plot.Add.Bars(bars);
        plot.Axes.Bottom.SetTicks(rows.Select((_, i) => (double)i).ToArray(), rows.Select(r => r.Variant).ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = ScottPlot.Alignment.MiddleLeft;
        // Room for rotated variant names below the axis.
        if (plot.Axes.Bottom is ScottPlot.AxisPanels.AxisBase bottom) bottom.MinimumSize = 12 + 7 * rows.Max(r => r.Variant.Length);
        plot.Axes.Margins(bottom: 0);
        plot.Title($"{metric} per variant (mean ± sd over seeds)");
        plot.YLabel(metric);
        plot.SavePng(path, 900, 560);
    }

    static void WriteCurveChart(string path, AblationSpec ablation, IReadOnlyList<AblationRun> runs)
    {
        var plot = new ScottPlot.Plot();
        foreach (var variant in ablation.Variants)
        {
            var histories = runs.Where(r => r.Variant == variant.Name).Select(r => r.Result.History).Where(h => h.Count > 0).ToList();
            if (histories.Count == 0) continue;
            int epochs = histories.Min(h => h.Count);
            var xs = Enumerable.Range(1, epochs).Select(e => (double)e).ToArray();
            var ys = Enumerable.Range(0, epochs).Select(e => histories.Select(h => h[e].ValidationMap5 ?? double.NaN).Average()).ToArray();
            if (ys.All(double.IsNaN)) continue;
            var line = plot.Add.Scatter(xs, ys);
            line.LegendText = variant.Name;
        }
        plot.Title("validation MAP@5 per epoch (mean over seeds)");
        plot.XLabel("epoch");
        plot.YLabel("validation MAP@5");
        plot.ShowLegend(ScottPlot.Alignment.LowerRight);
        plot.SavePng(path, 900, 560);
    }
}
