namespace HappyWhale.Tracking;

/// <summary>MLflow run status names; the file store writes them as MLflow's integer enum.</summary>
public enum RunStatus { Running = 1, Scheduled = 2, Finished = 3, Failed = 4, Killed = 5 }
