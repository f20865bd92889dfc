namespace HappyWhale.Pipeline;

/// <summary>One bar of work: a count towards a total.</summary>
public interface IProgressTask
{
    void Increment(double amount);
    /// <summary>Marks the task done, with a note appended to its description (e.g. the epoch's loss).</summary>
    void Complete(string note = "");
}

/// <summary>Where a stage's computation adds its progress bars. The pipeline owns the shape; the console draws it.</summary>
public interface IProgressBoard
{
    IProgressTask Add(string description, double total);
}

/// <summary>The board when nobody watches (tests, a planner's walk): every bar is dropped.</summary>
public sealed class SilentProgress : IProgressBoard, IProgressTask
{
    public static readonly SilentProgress Board = new();

    public IProgressTask Add(string description, double total) => this;
    public void Increment(double amount) { }
    public void Complete(string note = "") { }
}

public static class ProgressTaskExtensions
{
    /// <summary>An IProgress that receives running totals (as Preparer and the generator report them) and moves the bar by the difference.</summary>
    public static IProgress<int> AsRunningTotal(this IProgressTask task) => new RunningTotal(task);

    sealed class RunningTotal(IProgressTask task) : IProgress<int>
    {
        int _shown;

        public void Report(int total)
        {
            lock (this)
            {
                if (total <= _shown) return;
                task.Increment(total - _shown);
                _shown = total;
            }
        }
    }
}
