using HappyWhale.Pipeline;
using Spectre.Console;

namespace HappyWhale.Reporting;

/// <summary>The table printed at the end of a run: each stage, hit or run, its time, then the MAP@5 figures.</summary>
public static class SummaryTable
{
    public static void Print(PipelineResult result, TimeSpan total)
    {
        var stages = new Table().Title($"[bold]{Markup.Escape(result.ExperimentName)}[/]")
            .AddColumn("stage").AddColumn("cache").AddColumn(new TableColumn("duration").RightAligned()).AddColumn("key");
        foreach (var s in result.Stages)
            stages.AddRow(Markup.Escape(s.Label), s.Outcome == CacheOutcome.Hit ? "[green]hit[/]" : "[yellow]run[/]",
                $"{s.Duration.TotalSeconds:F1} s", $"[grey]{s.ShortKey}[/]");
        AnsiConsole.Write(stages);

        if (result.Metrics.Count > 0)
        {
            var metrics = new Table().AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
            foreach (var name in new[] { "val_map5", "test_map5", "sample_submission_map5" })
                if (result.Metrics.TryGetValue(name, out double v)) metrics.AddRow(Describe(name), EmptyFold(result, name) ? "[yellow]none[/]" : $"[bold]{v:F4}[/]");
            if (result.Metrics.TryGetValue("test_map5", out double t) && result.Metrics.TryGetValue("sample_submission_map5", out double f) && f > 0)
                metrics.AddRow("test MAP@5 / sample floor", $"{t / f:F2}x");
            EpisodeRows.AddTo(metrics, result.Metrics);
            AnsiConsole.Write(metrics);
        }
        if (EmptyFold(result, "val_map5"))
            AnsiConsole.MarkupLine("[yellow]The validation fold is empty: data.validation_fold is off, or no individual with several images has one in " +
                                   "data.fold (single-image individuals always train). There is no validation MAP@5, and evaluate.new_individual_threshold was used untuned.[/]");
        PrintRounds(result.Metrics);
        // Runs that stop before evaluate write no run folder: only the cache entries above.
        var where = result.RunFolder.Length > 0 ? $"; results in {Markup.Escape(result.RunFolder)}" : "";
        AnsiConsole.MarkupLine($"[grey]total {total.TotalSeconds:F1} s{where}[/]");
    }

    // metrics.json keeps 0 for an empty fold (its format is unchanged); read as a score it would mislead.
    static bool EmptyFold(PipelineResult result, string metric) =>
        metric == "val_map5" && result.Metrics.TryGetValue("val_queries", out double queries) && queries == 0;

    /// <summary>Pseudo-label rounds (pseudo_round{r}_* metrics): photos added, how many were right, validation MAP@5 after the round.</summary>
    static void PrintRounds(IReadOnlyDictionary<string, double> metrics)
    {
        if (!metrics.ContainsKey("pseudo_round0_val_map5")) return;
        var rounds = new Table().Title("pseudo-label rounds").AddColumn(new TableColumn("round").RightAligned())
            .AddColumn(new TableColumn("test photos added").RightAligned()).AddColumn(new TableColumn("labels right").RightAligned())
            .AddColumn(new TableColumn("validation MAP@5").RightAligned());
        for (int r = 0; metrics.ContainsKey($"pseudo_round{r}_val_map5") || metrics.ContainsKey($"pseudo_round{r}_added"); r++)
            rounds.AddRow(r == 0 ? "0 (no pseudo-labels)" : $"{r}",
                metrics.TryGetValue($"pseudo_round{r}_added", out double added) ? $"{added:F0}" : "-",
                metrics.TryGetValue($"pseudo_round{r}_accuracy", out double right) ? $"{right:P0}" : "-",
                metrics.TryGetValue($"pseudo_round{r}_val_map5", out double map) ? $"{map:F4}" : "-");
        AnsiConsole.Write(rounds);
    }

    static string Describe(string metric) => metric switch
    {
        "val_map5" => "MAP@5 validation fold",
        "test_map5" => "MAP@5 test set",
        "sample_submission_map5" => "MAP@5 sample submission (floor)",
        _ => metric,
    };
}
