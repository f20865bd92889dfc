using HappyWhale.Training;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace HappyWhale.Reporting;

/// <summary>Spectre.Console progress bars with a rate (items/s) and an ETA, for prepare and training.</summary>
public static class ConsoleProgress
{
    public static T Run<T>(Func<ProgressContext, T> work) =>
        AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new RateColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(work);

    /// <summary>Shows items per second, the figure people compare across image sizes.</summary>
    sealed class RateColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Markup(task.Speed is { } speed ? $"[blue]{speed,7:F1} img/s[/]" : "[grey]      - img/s[/]");
    }
}

/// <summary>One progress bar per epoch; a plain line per epoch too, so logs keep the history.</summary>
public sealed class ConsoleTrainingObserver(ProgressContext context, string label) : ITrainingObserver
{
    ProgressTask? _task;

    public void EpochStarted(int phase, int epoch, int epochs, int images) =>
        _task = context.AddTask($"{Markup.Escape(label)} phase {phase + 1} epoch {epoch + 1}/{epochs}", maxValue: images);

    public void StepFinished(int images, double loss) => _task?.Increment(images);

    public void Resumed(int phase, int epochsDone, int epochs) =>
        AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(label)} phase {phase + 1}: resuming after epoch {epochsDone}/{epochs} from the last checkpoint[/]");

    public void EpochFinished(EpochStats s)
    {
        if (_task is not null)
        {
            _task.Value = _task.MaxValue;
            _task.Description += $" loss {s.Loss:F3}" + (s.ValidationMap5 is { } v ? $" val MAP@5 {v:F3}" : "");
            _task.StopTask();
        }
        if (!AnsiConsole.Profile.Capabilities.Interactive)
            AnsiConsole.WriteLine($"{label} phase {s.Phase + 1} epoch {s.Epoch + 1}/{s.Epochs}: loss {s.Loss:F4}, train acc {s.Accuracy:F3}, " +
                                  $"lr {s.LearningRate:g3}, {s.ImagesPerSecond:F1} img/s, {s.Seconds:F1} s" +
                                  (s.ValidationMap5 is { } v ? $", val MAP@5 {v:F3}" : ""));
    }
}
