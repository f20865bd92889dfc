namespace HappyWhale.Tracking;

/// <summary>MLflow run status names; the file store writes them as MLflow's integer enum.</summary>
public enum RunStatus { Running = 1, Scheduled = 2, Finished = 3, Failed = 4, Killed = 5 }

/// <summary>Where runs are recorded (MLflow file store, MLflow REST, ...).</summary>
public interface ITracker
{
    /// <summary>Creates the experiment if needed and starts a run in it.</summary>
    ITrackedRun StartRun(string experimentName, string runName, IReadOnlyDictionary<string, string> tags, string? parentRunId = null);
}

/// <summary>One MLflow run. Keys follow MLflow's rules (letters, digits, _ - . space /).</summary>
public interface ITrackedRun
{
    string RunId { get; }
    string ExperimentId { get; }
    void LogParams(IReadOnlyDictionary<string, string> parameters);
    void LogMetric(string key, double value, long step = 0, long? timestampMs = null);
    void SetTag(string key, string value);
    /// <summary>Copies a file into the run's artifacts, under <paramref name="artifactDir"/> when given.</summary>
    void LogArtifact(string localPath, string? artifactDir = null);
    void End(RunStatus status);
}
