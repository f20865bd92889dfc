
namespace HappyWhale.Evaluation;

/// <summary>PNG of validation MAP@5 against the new_individual threshold, with the chosen and the configured threshold marked.</summary>
public static class ThresholdPlot
{
    public static void Write(string path, ThresholdCurve curve, double configured)
    {
        var plot = new ScottPlot.Plot();
        var line = plot.Add.Scatter(curve.Thresholds.ToArray(), curve.Scores.ToArray());
        line.LegendText = "validation MAP@5";
        line.MarkerSize = 0;
        var best = plot.Add.VerticalLine(curve.BestThreshold);
        best.LegendText = $"tuned {curve.BestThreshold:F2} (MAP@5 {curve.BestScore:F3})";
        var set = plot.Add.VerticalLine(configured);
        set.LegendText = $"configured {configured:F2}";
        set.LinePattern = ScottPlot.LinePattern.Dashed;
        plot.Title("new_individual threshold");
        plot.XLabel("cosine similarity threshold");
        plot.YLabel("MAP@5");
        plot.ShowLegend(ScottPlot.Alignment.LowerLeft);
        plot.SavePng(path, 800, 500);
    }
}
