using System.Diagnostics;
using HappyWhale.Pipeline;
using HappyWhale.Training;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace HappyWhale.Reporting;

/// <summary>
/// Progress with a rate (images/s) and an ETA: live Spectre.Console bars on an interactive
/// terminal; elsewhere (CI logs, redirected output, tests running in parallel) plain lines at
/// every quarter, which also never collide with another live display.
/// </summary>
public static class ConsoleProgress
{
    static int _live;

    public static T Run<T>(Func<IProgressBoard, T> work)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive || Interlocked.Exchange(ref _live, 1) == 1)
            return work(new LineBoard());
        try
        {
            return AnsiConsole.Progress()
                .AutoClear(false)
                .HideCompleted(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                    new RateColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(ctx => work(new SpectreBoard(ctx)));
        }
        finally { Volatile.Write(ref _live, 0); }
    }

    sealed class SpectreBoard(ProgressContext context) : IProgressBoard
    {
        public IProgressTask Add(string description, double total) => new SpectreTask(context.AddTask(Markup.Escape(description), maxValue: total));
    }

    sealed class SpectreTask(ProgressTask task) : IProgressTask
    {
        public void Increment(double amount) => task.Increment(amount);

        public void Complete(string note = "")
        {
            task.Value = task.MaxValue;
            if (note.Length > 0) task.Description += " " + Markup.Escape(note);
            task.StopTask();
        }
    }

    /// <summary>Shows items per second, the figure people compare across image sizes.</summary>
    sealed class RateColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Markup(task.Speed is { } speed ? $"[blue]{speed,7:F1} img/s[/]" : "[grey]      - img/s[/]");
    }

    sealed class LineBoard : IProgressBoard
    {
        public IProgressTask Add(string description, double total) => new LineTask(description, total);
    }

    sealed class LineTask(string description, double total) : IProgressTask
    {
        readonly Stopwatch _clock = Stopwatch.StartNew();
        readonly object _gate = new();
        double _done;
        int _quartersShown;

        public void Increment(double amount)
        {
            lock (_gate)
            {
                _done += amount;
                int quarter = total > 0 ? (int)Math.Min(3, Math.Floor(4 * _done / total)) : 0;
                if (quarter <= _quartersShown) return;
                _quartersShown = quarter;
                double rate = _done / Math.Max(_clock.Elapsed.TotalSeconds, 1e-9);
                double eta = (total - _done) / Math.Max(rate, 1e-9);
                Console.WriteLine($"{description}: {100 * _done / total:F0}% ({rate:F1} img/s, ETA {eta:F0} s)");
            }
        }

        public void Complete(string note = "") { }
    }
}

/// <summary>One progress bar per epoch; a plain line per epoch too, so logs keep the history.</summary>
public sealed class ConsoleTrainingObserver(IProgressBoard board, string label) : ITrainingObserver
{
    IProgressTask? _task;

    public void EpochStarted(int phase, int epoch, int epochs, int images) =>
        _task = board.Add($"{label} phase {phase + 1} epoch {epoch + 1}/{epochs}", images);

    public void StepFinished(int images, double loss) => _task?.Increment(images);

    public void Resumed(int phase, int epochsDone, int epochs) =>
        AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(label)} phase {phase + 1}: resuming after epoch {epochsDone}/{epochs} from the last checkpoint[/]");

    public void EpochFinished(EpochStats s)
    {
        string validation = s.ValidationMap5 is { } v ? $", val MAP@5 {v:F3}" : "";
        _task?.Complete($"loss {s.Loss:F3}{validation}");
        Console.WriteLine($"{label} phase {s.Phase + 1} epoch {s.Epoch + 1}/{s.Epochs}: loss {s.Loss:F4}, train acc {s.Accuracy:F3}, " +
                          $"lr {s.LearningRate:g3}, {s.ImagesPerSecond:F1} img/s, {s.Seconds:F1} s{validation}");
    }
}
