namespace HappyWhale.Tracking;

/// <summary>
/// MLflow's reserved tag names (mlflow/utils/mlflow_tags.py) that the file store fills in, the same ones
/// mlflow.start_run sets through its default run context (mlflow/tracking/context/default_context.py).
/// </summary>
public static class MlflowTags
{
    public const string RunName = "mlflow.runName";
    public const string User = "mlflow.user";
    public const string SourceName = "mlflow.source.name";
    public const string SourceType = "mlflow.source.type";
    public const string GitCommit = "mlflow.source.git.commit";
    public const string ParentRunId = "mlflow.parentRunId";

    /// <summary>Tag value of SourceType.LOCAL; the run meta.yaml stores the integer form.</summary>
    public const string SourceTypeLocal = "LOCAL";
    public const int SourceTypeLocalCode = 4; // mlflow/entities/source_type.py: NOTEBOOK, JOB, PROJECT, LOCAL, UNKNOWN = range(1, 6)

    /// <summary>The default run context's tags (user, source name, source type), as a fresh map callers add to.</summary>
    public static Dictionary<string, string> DefaultContext() => new(StringComparer.Ordinal)
    {
        [User] = Environment.UserName,
        [SourceName] = Environment.GetCommandLineArgs().FirstOrDefault() ?? "<console>",
        [SourceType] = SourceTypeLocal,
    };
}
