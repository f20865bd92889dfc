using HappyWhale.Tracking;

namespace HappyWhale.Tests.Tracking;

/// <summary>
/// A throw-away repository root for tracking tests: its journal (artifacts/mlruns), pushers and sessions with fast retries
/// (MLflow's own retry variables), and a captured log.
/// </summary>
public sealed class RestTestKit : IDisposable
{
    public TempStore Temp { get; } = new();
    public List<string> Log { get; } = [];
    public string Repo => Temp.Folder;
    public string JournalRoot => TrackingSession.DefaultStoreRoot(Repo);

    public Func<string, string?> Env(IReadOnlyDictionary<string, string>? extra = null) => key =>
        extra?.GetValueOrDefault(key) ?? key switch
        {
            "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR" => "0.001",
            "MLFLOW_HTTP_REQUEST_TIMEOUT" => "20",
            _ => null,
        };

    public TrackingSession Session(string uri, IReadOnlyDictionary<string, string>? env = null) =>
        TrackingSession.Open(uri, Repo, m => { lock (Log) Log.Add(m); }, Env(env));

    /// <summary>A pusher to <paramref name="uri"/> over this kit's journal, without a background sender: each push is the test's.</summary>
    public RunPusher Pusher(string uri, IReadOnlyDictionary<string, string>? env = null)
    {
        var options = MlflowRestOptions.FromVariables(uri, Env(env)) with { Log = m => { lock (Log) Log.Add(m); } };
        return new RunPusher(new MlflowRestClient(options), JournalRoot,
            Path.Combine(Repo, "artifacts", TrackingSession.SyncFolderName, MlflowRestOptions.FolderName(options.BaseUri)));
    }

    public PushResult Push(string uri) => Pusher(uri).PushAll(TimeSpan.FromSeconds(10));

    public void Dispose() => Temp.Dispose();
}
