using System.Text.Json.Nodes;

namespace HappyWhale.Tracking;

/// <summary>
/// Records runs on an MLflow tracking server through its REST API (see <see cref="MlflowRestClient"/>).
/// When the server cannot be reached after the retries, the tracker goes offline for the rest of the process and
/// every further record goes to the <see cref="TrackingSpool"/>, to be sent by <see cref="SpoolReplayer"/>; the
/// experiment itself never fails because the server is down. A run started offline has a local id as its
/// <see cref="ITrackedRun.RunId"/> (32 hex digits like a server id) and gets its server id at replay.
/// Every run carries the tag happywhale.client_run_id = its local id.
/// </summary>
public sealed class MlflowRestTracker : ITracker, IDisposable
{
    public const string ClientRunIdTag = "happywhale.client_run_id";
    /// <summary>Appended to a param or tag value cut to MLflow's limit.</summary>
    public const string TruncationMarker = "...[truncated]";

    private readonly object _gate = new();
    private readonly Dictionary<string, string> _experimentIds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, MlflowRestRun> _runs = new(StringComparer.Ordinal);
    private volatile bool _offline;

    public MlflowRestClient Client { get; }
    public TrackingSpool? Spool { get; }
    public CredentialScrubber Scrubber => Client.Scrubber;
    /// <summary>True once a call failed after its retries: from then on records are spooled without trying the server.</summary>
    public bool IsOffline => _offline;

    public MlflowRestTracker(MlflowRestOptions options, HttpMessageHandler? handler = null)
    {
        Client = new MlflowRestClient(options, handler);
        Spool = options.SpoolDirectory is null ? null : new TrackingSpool(options.SpoolDirectory);
    }

    public void Dispose() => Client.Dispose();

    public ITrackedRun StartRun(string experimentName, string runName, IReadOnlyDictionary<string, string> tags, string? parentRunId = null)
    {
        MlflowNames.ValidateStartRun(experimentName, runName, tags, parentRunId);

        var localId = Guid.NewGuid().ToString("N");
        var allTags = MlflowTags.DefaultContext();
        foreach (var (key, value) in tags)
        {
            MlflowNames.ValidateKey("tag", key);
            allTags[key] = CleanValue(value, MlflowNames.MaxTagValueLength);
        }
        allTags[MlflowTags.RunName] = CleanValue(runName, MlflowNames.MaxTagValueLength);
        allTags[ClientRunIdTag] = localId;

        // A parent that exists only in the spool so far: the child must wait for it there too.
        var parent = parentRunId is null ? null : FindRun(parentRunId);
        bool parentPending = parent is { IsPending: true };
        if (parentRunId is not null) allTags[MlflowTags.ParentRunId] = parent?.RunId ?? parentRunId;

        long start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        MlflowRestRun run;
        if (!_offline && !parentPending)
        {
            try
            {
                var experimentId = ExperimentId(experimentName);
                var (runId, artifactUri) = Client.CreateRun(experimentId, runName, start, allTags.ToList(), allTags[MlflowTags.User]);
                run = new MlflowRestRun(this, localId, runId, experimentId, artifactUri);
            }
            catch (MlflowRestException e) when (e.IsTransient && Spool is not null)
            {
                GoOffline(e);
                run = SpoolCreate(localId, experimentName, runName, start, allTags, parentPending ? parentRunId : null, verify: true);
            }
        }
        else
        {
            run = SpoolCreate(localId, experimentName, runName, start, allTags, parentPending ? parentRunId : null, verify: false);
        }
        lock (_gate) _runs[run.LocalId] = run;
        return run;
    }

    private MlflowRestRun SpoolCreate(string localId, string experimentName, string runName, long start, Dictionary<string, string> tags, string? pendingParent, bool verify)
    {
        var run = new MlflowRestRun(this, localId, null, null, null);
        var record = run.NewRecord("create_run");
        record["experiment"] = experimentName;
        record["run_name"] = runName;
        record["start_time"] = start;
        record["tags"] = LogBatch.Pairs(tags);
        if (pendingParent is not null) record["parent_local"] = pendingParent;
        if (verify) record["verify"] = true;
        Spool!.Append(record);
        return run;
    }

    private string ExperimentId(string name)
    {
        lock (_gate)
            if (_experimentIds.TryGetValue(name, out var cached)) return cached;
        var id = Client.GetOrCreateExperimentId(name);
        lock (_gate) _experimentIds[name] = id;
        return id;
    }

    internal void GoOffline(MlflowRestException e)
    {
        if (_offline) return;
        _offline = true;
        Client.Options.Log(Scrubber.Scrub(
            $"warning: MLflow server {Client.Options.BaseUri} unreachable ({e.Message}); records go to the spool {Spool?.Directory} and are replayed by `happywhale sync-tracking` or the next `run`."));
    }

    /// <summary>Credentials scrubbed, and cut to <paramref name="limit"/> with <see cref="TruncationMarker"/> rather than rejected.</summary>
    internal string CleanValue(string? value, int limit)
    {
        var clean = Scrubber.Scrub(value ?? "");
        return clean.Length <= limit ? clean : clean[..(limit - TruncationMarker.Length)] + TruncationMarker;
    }

    /// <summary>Looks up a run started by this tracker by its local or server id.</summary>
    public MlflowRestRun? FindRun(string id)
    {
        lock (_gate) return _runs.TryGetValue(id, out var run) ? run : _runs.Values.FirstOrDefault(r => r.RunId == id);
    }
}
