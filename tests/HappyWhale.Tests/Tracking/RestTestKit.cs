using HappyWhale.Tracking;

namespace HappyWhale.Tests.Tracking;

/// <summary>Fast retry settings and a captured log for the REST tracker tests.</summary>
public sealed class RestTestKit : IDisposable
{
    public TempStore Temp { get; } = new();
    public List<string> Log { get; } = [];
    public string SpoolRoot => Path.Combine(Temp.Folder, "artifacts", "mlruns-spool");

    public MlflowRestOptions Options(string uri, Dictionary<string, string>? env = null) =>
        MlflowRestOptions.FromVariables(uri, SpoolRoot, k => env?.GetValueOrDefault(k)) with
        {
            MaxRetries = 2,
            InitialBackoff = TimeSpan.FromMilliseconds(1),
            MaxBackoff = TimeSpan.FromMilliseconds(4),
            Timeout = TimeSpan.FromSeconds(20),
            Log = m => { lock (Log) Log.Add(m); },
        };

    public MlflowRestTracker Tracker(string uri, Dictionary<string, string>? env = null) => new(Options(uri, env));

    public ReplayResult Replay(string uri, Dictionary<string, string>? env = null)
    {
        using var tracker = Tracker(uri, env);
        return new SpoolReplayer(tracker.Spool!, tracker.Client).Replay();
    }

    public void Dispose() => Temp.Dispose();
}
