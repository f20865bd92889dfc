namespace HappyWhale.Tracking;

/// <summary>
/// Where this process records runs. Every run is written to a local MLflow file store, the journal (artifacts/mlruns, or the
/// folder a file tracking URI names), which `mlflow ui` and the Python client read as they are. With an http(s) tracking URI a
/// <see cref="BackgroundSender"/> pushes the journal's runs to that server while they grow (<see cref="RunPusher"/>); what the
/// server does not take in time stays in the journal, in order, until a later push sends it exactly once (the next run's
/// sender, or `happywhale sync-tracking`). Tracking never fails an experiment because a server is down.
/// </summary>
public sealed class TrackingSession : IDisposable
{
    /// <summary>artifacts/mlruns-sync: live/ holds the live runs' locks, one folder per server holds its push states.</summary>
    public const string SyncFolderName = "mlruns-sync";
    private static readonly TimeSpan FinalWait = TimeSpan.FromSeconds(60);

    private readonly string _liveFolder;
    private readonly Action<string> _log;
    private BackgroundSender? _sender;
    private bool _warned;

    public MlflowFileStore Journal { get; }
    /// <summary>The server's pusher; null when the tracking URI is a file store.</summary>
    public RunPusher? Pusher { get; }
    public CredentialScrubber Scrubber { get; }

    private TrackingSession(MlflowFileStore journal, RunPusher? pusher, string liveFolder, CredentialScrubber scrubber, Action<string> log)
    {
        (Journal, Pusher, _liveFolder, Scrubber, _log) = (journal, pusher, liveFolder, scrubber, log);
    }

    /// <param name="uri">null/empty: artifacts/mlruns; a path or file: URI: a file store there; http(s): that server, with
    /// MLflow's credential and retry variables, and the journal at artifacts/mlruns.</param>
    /// <param name="log">Warnings (already scrubbed); default standard error.</param>
    /// <param name="env">Where MLflow's variables are read (default: this process's environment).</param>
    public static TrackingSession Open(string? uri, string repoRoot, Action<string>? log = null, Func<string, string?>? env = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(repoRoot);
        log ??= message => Console.Error.WriteLine(message);
        env ??= Environment.GetEnvironmentVariable;
        var syncRoot = Path.GetFullPath(Path.Combine(repoRoot, "artifacts", SyncFolderName));
        var journal = new MlflowFileStore(IsHttp(uri) ? DefaultStoreRoot(repoRoot) : ResolveFileStoreRoot(uri, repoRoot));
        if (!IsHttp(uri))
            return new TrackingSession(journal, null, Path.Combine(syncRoot, "live"), CredentialScrubber.FromVariables(uri, env), log);
        // Few retries per call: the sender tries again at the next wake-up, and a run's last push should not wait long for a dead server.
        var fromEnvironment = MlflowRestOptions.FromVariables(uri!, env);
        var options = fromEnvironment with { Log = log, MaxRetries = Math.Min(fromEnvironment.MaxRetries, 2) };
        var pusher = new RunPusher(new MlflowRestClient(options), journal.RootDirectory, Path.Combine(syncRoot, MlflowRestOptions.FolderName(options.BaseUri)));
        return new TrackingSession(journal, pusher, Path.Combine(syncRoot, "live"), options.Scrubber, log);
    }

    /// <summary>Starts a RUNNING run in the journal (and, with a server, the push of it).</summary>
    public TrackedRun StartRun(string experimentName, string runName, IReadOnlyDictionary<string, string> tags, string? parentRunId = null)
    {
        var live = LiveLock.Take(_liveFolder, Journal.RootDirectory);
        try
        {
            var clean = tags.ToDictionary(t => t.Key, t => Clean(t.Value, MlflowNames.MaxTagValueLength));
            var run = Journal.StartRun(experimentName, Clean(runName, MlflowNames.MaxTagValueLength), clean, parentRunId, live.RunId);
            Pusher?.Track(run.RunId);
            var tracked = new TrackedRun(this, run, live);
            Changed();
            return tracked;
        }
        catch
        {
            live.Dispose();
            throw;
        }
    }

    /// <summary>`happywhale sync-tracking`: end KILLED the runs of dead processes, then push every run the server lacks something of.</summary>
    public static SyncResult Sync(string? uri, string repoRoot, Action<string>? log = null, Func<string, string?>? env = null)
    {
        using var session = Open(uri, repoRoot, log, env);
        var killed = session.RecoverAbandoned();
        var server = session.Pusher?.Client.Options.BaseUri;
        try { return new SyncResult(server, killed, session.PushNow(FinalWait), null); }
        catch (Exception e) when (e is MlflowRestException or TimeoutException or IOException)
        {
            return new SyncResult(server, killed, new PushResult(0, 0, 0, session.Pusher!.Pending()), session.Scrubber.Scrub(e.Message));
        }
    }

    /// <summary>Ends KILLED the journal's RUNNING runs whose process died (a push then takes the status to the server).</summary>
    public IReadOnlyList<string> RecoverAbandoned() => LiveLock.RecoverAbandoned(_liveFolder);

    /// <summary>Pushes every run the server lacks something of, on this thread; throws as <see cref="RunPusher.PushAll"/> does.</summary>
    public PushResult PushNow(TimeSpan wait) => Pusher?.PushAll(wait) ?? new PushResult(0, 0, 0, 0);

    /// <summary>Credentials scrubbed, and cut to <paramref name="limit"/> with a marker rather than refused.</summary>
    public string Clean(string? value, int limit)
    {
        const string truncated = "...[truncated]";
        var clean = Scrubber.Scrub(value ?? "");
        return clean.Length <= limit ? clean : clean[..(limit - truncated.Length)] + truncated;
    }

    /// <summary>The journal gained records: wake the sender (started with the first run).</summary>
    internal void Changed()
    {
        if (Pusher is null) return;
        _sender ??= new BackgroundSender(PushInBackground);
        _sender.Wake();
    }

    private bool PushInBackground() => Push(TimeSpan.FromSeconds(1));

    private bool Push(TimeSpan wait)
    {
        try
        {
            Pusher!.PushAll(wait);
            if (_warned) _log($"MLflow server {Pusher.Client.Options.BaseUri} answers again; the records kept meanwhile are sent.");
            _warned = false;
            return true;
        }
        catch (TimeoutException) { return false; } // another process is pushing to this server: next time
        catch (Exception e) when (e is MlflowRestException or IOException)
        {
            if (!_warned)
                _log(Scrubber.Scrub($"warning: MLflow server {Pusher!.Client.Options.BaseUri}: {e.Message}; the run goes on, its records are kept " +
                                    $"in {Journal.RootDirectory} and sent when the server answers (or by `happywhale sync-tracking`)."));
            _warned = true;
            return false;
        }
    }

    /// <summary>Stops the sender and pushes what is left with the caller waiting; says so when the server still lacks something.</summary>
    public void Dispose()
    {
        if (_sender is null) return;
        _sender.Stop(FinalWait);
        _sender = null;
        if (!Push(FinalWait) && Pusher!.Pending() is var pending and > 0)
            _log($"MLflow: {pending} run(s) not yet complete on {Pusher.Client.Options.BaseUri}; their records are kept in {Journal.RootDirectory} " +
                 "and sent by the next run or `./build.sh --target=SyncTracking`.");
    }

    public static bool IsHttp(string? uri) => uri is not null &&
        (uri.Trim().StartsWith("http://", StringComparison.OrdinalIgnoreCase) || uri.Trim().StartsWith("https://", StringComparison.OrdinalIgnoreCase));

    /// <summary>&lt;repoRoot&gt;/artifacts/mlruns.</summary>
    public static string DefaultStoreRoot(string repoRoot) => Path.GetFullPath(Path.Combine(repoRoot, "artifacts", "mlruns"));

    /// <summary>The journal's folder for a tracking URI: the file store it names, or artifacts/mlruns for a server.</summary>
    public static string JournalRoot(string? uri, string repoRoot) => IsHttp(uri) ? DefaultStoreRoot(repoRoot) : ResolveFileStoreRoot(uri, repoRoot);

    /// <summary>
    /// null/empty → &lt;repoRoot&gt;/artifacts/mlruns; a plain path or a file: URI → that folder (relative paths are taken from
    /// <paramref name="repoRoot"/>); http(s) and other schemes throw.
    /// </summary>
    public static string ResolveFileStoreRoot(string? uri, string repoRoot)
    {
        if (string.IsNullOrWhiteSpace(uri)) return DefaultStoreRoot(repoRoot);
        uri = uri.Trim();
        if (IsHttp(uri))
            throw new NotSupportedException($"Tracking URI '{CredentialScrubber.StripUserInfo(uri)}' is an MLflow server, not a file store.");
        string path;
        if (uri.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
            path = StoreFiles.FromFileUri(uri);
        else if (HasScheme(uri))
            throw new NotSupportedException($"Tracking URI scheme of '{CredentialScrubber.StripUserInfo(uri)}' is not supported; use a local path, a file: URI, or http(s)://.");
        else
            path = uri;
        if (path.Length == 0)
            throw new ArgumentException($"Tracking URI '{CredentialScrubber.StripUserInfo(uri)}' has no path.", nameof(uri));
        return RepoPath.Resolve(path, repoRoot);
    }

    // "sqlite:///x.db", "databricks", "postgresql://..." have a scheme; "C:\x" (a drive letter) does not.
    private static bool HasScheme(string uri)
    {
        int colon = uri.IndexOf(':');
        return colon > 1 && uri[..colon].All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.') && char.IsAsciiLetter(uri[0]);
    }
}

/// <summary>
/// A run being recorded: each value scrubbed of credentials and cut to MLflow's limits, written to the journal, then the
/// sender woken. Holds the run's <see cref="LiveLock"/> until it ends.
/// </summary>
public sealed class TrackedRun
{
    private readonly TrackingSession _session;
    private readonly MlflowFileRun _run;
    private readonly LiveLock _live;

    internal TrackedRun(TrackingSession session, MlflowFileRun run, LiveLock live) => (_session, _run, _live) = (session, run, live);

    /// <summary>The journal's run id (a server knows the run by its own id and this one as a tag).</summary>
    public string RunId => _run.RunId;

    public void LogParams(IReadOnlyDictionary<string, string> parameters)
    {
        _run.LogParams(parameters.ToDictionary(p => p.Key, p => _session.Clean(p.Value, MlflowNames.MaxParamValueLength)));
        _session.Changed();
    }

    public void LogMetric(string key, double value, long step = 0)
    {
        _run.LogMetric(key, value, step);
        _session.Changed();
    }

    public void SetTag(string key, string value)
    {
        _run.SetTag(key, _session.Clean(value, MlflowNames.MaxTagValueLength));
        _session.Changed();
    }

    /// <summary>Copies a file (or a folder) into the run's artifacts, under <paramref name="artifactDir"/> when given.</summary>
    public void LogArtifact(string localPath, string? artifactDir = null)
    {
        _run.LogArtifact(localPath, artifactDir);
        _session.Changed();
    }

    /// <summary>Text as an artifact file at <paramref name="artifactPath"/> ("model/resolved.yaml"), scrubbed like every value.</summary>
    public void LogText(string artifactPath, string content)
    {
        var temp = Directory.CreateTempSubdirectory("happywhale-artifact-");
        try
        {
            var file = Path.Combine(temp.FullName, Path.GetFileName(artifactPath));
            File.WriteAllText(file, _session.Scrubber.Scrub(content));
            var folder = Path.GetDirectoryName(artifactPath)?.Replace('\\', '/');
            LogArtifact(file, string.IsNullOrEmpty(folder) ? null : folder);
        }
        finally { temp.Delete(recursive: true); }
    }

    public void End(RunStatus status)
    {
        _run.End(status);
        _live.Dispose();
        _session.Changed();
    }

    /// <summary>Ends FAILED with the error's message (scrubbed) in the tag happywhale.error.</summary>
    public void Fail(Exception error)
    {
        SetTag(ErrorTag, error is UserException ? error.Message : $"{error.GetType().Name}: {error.Message}");
        End(RunStatus.Failed);
    }

    public const string ErrorTag = "happywhale.error";
}

/// <summary>What <see cref="TrackingSession.Sync"/> did; <see cref="StoppedBecause"/> is set when the server did not take everything.</summary>
public sealed record SyncResult(string? Server, IReadOnlyList<string> Killed, PushResult Push, string? StoppedBecause);
