using HappyWhale.Training;

namespace HappyWhale.Reporting;

/// <summary>PNG of one run's per-epoch curves on one 0-1 axis: training accuracy and, when measured, validation MAP@5.</summary>
public static class EpochCurves
{
    public const string File = "curves.png";

    public static void Write(string path, IReadOnlyList<EpochStats> history)
    {
        var plot = new ScottPlot.Plot();
        var epochs = Enumerable.Range(1, history.Count).Select(e => (double)e).ToArray();
        var accuracy = plot.Add.Scatter(epochs, history.Select(e => e.Accuracy).ToArray());
        accuracy.LegendText = "train accuracy";
        if (history.Any(e => e.ValidationMap5 is not null))
        {
            var map5 = plot.Add.Scatter(epochs, history.Select(e => e.ValidationMap5 ?? double.NaN).ToArray());
            map5.LegendText = "validation MAP@5";
        }
        plot.Title("per-epoch curves (epochs counted across phases)");
        plot.XLabel("epoch");
        plot.YLabel("accuracy / MAP@5");
        plot.ShowLegend(ScottPlot.Alignment.LowerRight);
        plot.SavePng(path, 800, 500);
    }
}
