using HappyWhale.Pipeline;
using HappyWhale.Training;
using Spectre.Console;

namespace HappyWhale.Reporting;

/// <summary>The pipeline drawn on the console: progress bars, one line per epoch and per stage, notes in grey.</summary>
public sealed class ConsoleObserver : IPipelineObserver
{
    public void StageFinished(StageRun stage)
    {
        string outcome = stage.Outcome == CacheOutcome.Hit ? "[green]cache hit[/]" : "[yellow]computed[/]";
        AnsiConsole.MarkupLine($"{Markup.Escape(stage.Label)}: {outcome} [grey]{stage.Stage}/{stage.ShortKey} ({stage.Duration.TotalSeconds:F1} s)[/]");
    }

    public void Note(string line) => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]");

    public T Progress<T>(Func<IProgressBoard, T> work) => ConsoleProgress.Run(work);

    public ITrainingObserver Training(IProgressBoard board, string label) => new ConsoleTrainingObserver(board, label);
}
