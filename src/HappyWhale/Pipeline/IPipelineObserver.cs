using HappyWhale.Training;

namespace HappyWhale.Pipeline;

/// <summary>
/// Listens to one experiment's pipeline as it runs (MLflow tracking does). Called on the pipeline's thread, so a
/// listener with slow work (a network call) hands it off and returns at once.
/// </summary>
public interface IPipelineObserver
{
    /// <summary>The device the run's models use, with its hardware name, resolved before any stage.</summary>
    void DeviceResolved(string device) { }

    /// <summary>A stage ended, computed or served from the cache.</summary>
    void StageFinished(StageRun stage) { }

    /// <summary>A training epoch ended. Epochs of a train stage served from the cache are not replayed here.</summary>
    void EpochFinished(EpochStats epoch) { }
}

/// <summary>The trainer's progress to the console observer, and each finished epoch to the pipeline's observer too.</summary>
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
