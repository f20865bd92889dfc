using HappyWhale.Cli;
using HappyWhale.Pipeline;
using HappyWhale.Reporting;
using Spectre.Console;

namespace HappyWhale.Tests.EndToEnd;

public class ReportingOutputTests
{
    [Fact]
    public void Error_logs_written_in_the_same_instant_keep_both_reports()
    {
        using var tmp = new TempFolder();
        var paths = Enumerable.Range(0, 5).Select(i => ErrorLog.Write(new InvalidOperationException($"failure {i}"), tmp.Path)).ToList();
        Assert.Equal(5, paths.Distinct().Count());
        for (int i = 0; i < 5; i++) Assert.Contains($"failure {i}", File.ReadAllText(paths[i]));
    }

    [Fact]
    public void An_empty_validation_fold_is_said_plainly_not_printed_as_zero()
    {
        var metrics = new Dictionary<string, double> { ["val_map5"] = 0, ["val_queries"] = 0, ["test_map5"] = 0.3125, ["sample_submission_map5"] = 0.1 };
        var result = new PipelineResult("tiny", [], [], metrics, "");
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        var previous = AnsiConsole.Console;
        AnsiConsole.Console = console;
        try { SummaryTable.Print(result, TimeSpan.FromSeconds(1)); }
        finally { AnsiConsole.Console = previous; }
        var lines = writer.ToString().Split('\n');
        var validation = Assert.Single(lines, l => l.Contains("MAP@5 validation fold"));
        Assert.Contains("none", validation);
        Assert.DoesNotContain("0.0000", validation);
        Assert.Contains(lines, l => l.Contains("0.3125"));
        Assert.Contains("The validation fold is empty", string.Join(" ", lines.Select(l => l.Trim())));
    }
}
