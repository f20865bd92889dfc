using HappyWhale.Training;

namespace HappyWhale.Pipeline;

/// <summary>
/// Listens to one experiment's pipeline as it runs: the console draws it (Reporting), MLflow records it (Tracking).
/// The pipeline owns this interface and knows neither listener. Called on the pipeline's thread, so a listener with
/// slow work (a network call) hands it off and returns at once.
/// </summary>
public interface IPipelineObserver
{
    /// <summary>The device the run's models use, with its hardware name, resolved before any stage.</summary>
    void DeviceResolved(string device) { }

    /// <summary>A stage ended, computed or served from the cache.</summary>
    void StageFinished(StageRun stage) { }

    /// <summary>A training epoch ended. Epochs of a train stage served from the cache are not replayed here.</summary>
    void EpochFinished(EpochStats epoch) { }

    /// <summary>A line for the person running the experiment (species merges, a lock waited for, a pseudo-label round's outcome).</summary>
    void Note(string line) { }

    /// <summary>Runs one stage's computation with a board to show its progress on.</summary>
    T Progress<T>(Func<IProgressBoard, T> work) => work(SilentProgress.Board);

    /// <summary>How a train stage shows its epochs on <paramref name="board"/>; null = not at all.</summary>
    ITrainingObserver? Training(IProgressBoard board, string label) => null;
}

/// <summary>The observer when nobody watches.</summary>
public sealed class SilentObserver : IPipelineObserver
{
    public static readonly SilentObserver Instance = new();
}

/// <summary>
/// The two observers one pipeline has: the display (<see cref="PipelineOptions.Display"/>: progress, notes; the same for
/// every pipeline a command runs) and the run's own listener (an MLflow run; null for a nested or untracked pipeline).
/// Events reach both; progress is the display's.
/// </summary>
sealed class ObserverPair(IPipelineObserver display, IPipelineObserver? listener) : IPipelineObserver
{
    public void DeviceResolved(string device)
    {
        display.DeviceResolved(device);
        listener?.DeviceResolved(device);
    }

    public void StageFinished(StageRun stage)
    {
        display.StageFinished(stage);
        listener?.StageFinished(stage);
    }

    public void EpochFinished(EpochStats epoch)
    {
        display.EpochFinished(epoch);
        listener?.EpochFinished(epoch);
    }

    public void Note(string line) => display.Note(line);

    public T Progress<T>(Func<IProgressBoard, T> work) => display.Progress(work);

    public ITrainingObserver Training(IProgressBoard board, string label)
    {
        var shown = display.Training(board, label) ?? SilentTraining.Instance;
        return listener is null ? shown : new EpochRelay(shown, listener);
    }
}

/// <summary>Training nobody watches.</summary>
sealed class SilentTraining : ITrainingObserver
{
    public static readonly SilentTraining Instance = new();
    public void EpochStarted(int phase, int epoch, int epochs, int images) { }
    public void StepFinished(int images, double loss) { }
    public void EpochFinished(EpochStats stats) { }
}

/// <summary>The trainer's progress to the display's observer, and each finished epoch to the run's listener too.</summary>
sealed class EpochRelay(ITrainingObserver inner, IPipelineObserver observer) : ITrainingObserver
{
    public void EpochStarted(int phase, int epoch, int epochs, int images) => inner.EpochStarted(phase, epoch, epochs, images);
    public void StepFinished(int images, double loss) => inner.StepFinished(images, loss);
    public void Resumed(int phase, int epochsDone, int epochs) => inner.Resumed(phase, epochsDone, epochs);

    public void EpochFinished(EpochStats stats)
    {
        inner.EpochFinished(stats);
        observer.EpochFinished(stats);
    }
}
