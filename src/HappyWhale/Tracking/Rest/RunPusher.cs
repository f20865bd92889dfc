using System.Text.Json;

namespace HappyWhale.Tracking;

/// <summary>What a push did: runs that sent something, records sent (metric points, params, tags, artifacts, status changes),
/// HTTP requests made, and runs the server still lacks something of.</summary>
public sealed record PushResult(int Runs, int Records, int Requests, int Pending);

/// <summary>
/// Pushes runs of the journal (the local MLflow file store) to one MLflow server, each record exactly once. A run is pushed
/// when it has a state file here (<see cref="Track"/>): the server's run id and what the server already has of it (params and
/// tags sent, how far into each metric file, which version of each artifact, the status). A push sends only what the journal
/// holds beyond that, in log-batch calls within MLflow's limits, and writes the state (fsynced) after each call succeeds;
/// artifacts and the status go last, so a FINISHED run on the server has everything.
/// A call that is not idempotent (runs/create, a log-batch with metric points) marks the state "uncertain" first: when its
/// outcome is unknown (the server went away mid-call, the process died), the next push finds the run by its client id tag
/// instead of creating another, and leaves out the leading points of each metric the server already has.
/// </summary>
public sealed class RunPusher
{
    /// <summary>Tag on the server run: the journal's run id, by which a run whose creation went unanswered is found.</summary>
    public const string ClientRunIdTag = "happywhale.client_run_id";

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };
    private readonly MlflowFileStoreReader _journal;
    private int _runs, _records; // of the push in progress

    public MlflowRestClient Client { get; }
    /// <summary>One state file per run: &lt;run id&gt;.json.</summary>
    public string StateFolder { get; }

    public RunPusher(MlflowRestClient client, string journalRoot, string stateFolder)
    {
        Client = client;
        _journal = new MlflowFileStoreReader(journalRoot);
        StateFolder = Path.GetFullPath(stateFolder);
    }

    /// <summary>Makes a journal run one this server gets.</summary>
    public void Track(string runId)
    {
        if (!File.Exists(StatePath(runId))) Save(runId, new PushState());
    }

    /// <summary>
    /// Pushes every tracked run the server does not fully have. One process pushes to a server at a time; a push that cannot
    /// get its turn within <paramref name="wait"/> throws TimeoutException. A server failure throws MlflowRestException;
    /// what was sent before it stays sent.
    /// </summary>
    public PushResult PushAll(TimeSpan wait)
    {
        Directory.CreateDirectory(StateFolder);
        using var _ = StoreLock.Acquire(StateFolder + "#push", wait);
        int requests = Client.RequestCount;
        (_runs, _records) = (0, 0);
        var pending = Directory.EnumerateFiles(StateFolder, "*.json").Select(f => Path.GetFileNameWithoutExtension(f)!)
            .Where(id => !Load(id).Complete).Order(StringComparer.Ordinal).ToList();
        foreach (var runId in pending) Push(runId, depth: 0);
        return new PushResult(_runs, _records, Client.RequestCount - requests, Pending());
    }

    /// <summary>Tracked runs the journal holds more of than the server (read locally, no request).</summary>
    public int Pending() =>
        !Directory.Exists(StateFolder) ? 0 : Directory.EnumerateFiles(StateFolder, "*.json").Count(f =>
        {
            var id = Path.GetFileNameWithoutExtension(f)!;
            var state = Load(id);
            return !state.Complete && _journal.FindRun(id) is { } run && Work.Of(run, state, _journal, ServerIdOf).Any(state);
        });

    /// <summary>Pushes one run (counted in _runs and _records).</summary>
    private void Push(string runId, int depth)
    {
        var state = Load(runId);
        var run = _journal.FindRun(runId);
        if (run is null || state.Complete) return; // a run deleted from the journal has nothing left to send
        // A child names its parent by journal id; the server knows the parent by its own id, so the parent goes first.
        if (_journal.ReadTags(run).TryGetValue(MlflowTags.ParentRunId, out var parent) && File.Exists(StatePath(parent))
            && ServerIdOf(parent) is null && depth < 8)
            Push(parent, depth + 1);
        var work = Work.Of(run, state, _journal, ServerIdOf);
        if (!work.Any(state) && state.RunId is not null)
        {
            if (run.Status != RunStatus.Running) { state.Complete = true; Save(runId, state); }
            return;
        }
        int records = 0;

        if (state.RunId is null) records += Create(run, work, state);
        if (state.Uncertain) LeaveOutWhatTheServerHas(work, state);

        var pendingParams = work.Params.Where(p => !state.Params.Contains(p.Key)).ToList();
        var pendingTags = work.Tags.Where(t => state.Tags.GetValueOrDefault(t.Key) != t.Value).ToList();
        var points = work.Points.Select(p => p.Metric).ToList();
        int done = 0;
        foreach (var batch in LogBatchChunker.Chunk(points, pendingParams, pendingTags))
        {
            if (batch.Metrics.Count > 0) MarkUncertain(runId, state);
            Client.LogBatch(state.RunId!, batch);
            foreach (var p in batch.Params) state.Params.Add(p.Key);
            foreach (var t in batch.Tags) state.Tags[t.Key] = t.Value;
            for (int i = 0; i < batch.Metrics.Count; i++, done++) state.Metrics[work.Points[done].Metric.Key] = work.Points[done].End;
            state.Uncertain = false;
            Save(runId, state);
            records += batch.Count;
        }
        foreach (var (path, file, version) in work.Artifacts)
        {
            Client.PutArtifact(state.ArtifactUri!, path, file);
            state.Artifacts[path] = version;
            Save(runId, state);
            records++;
        }
        if (work.Status is { } status)
        {
            Client.UpdateRun(state.RunId!, status, run.EndTime ?? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            (state.Status, state.EndTime) = (MlflowRestClient.StatusName(status), run.EndTime);
            records++;
        }
        state.Complete = run.Status != RunStatus.Running;
        Save(runId, state);
        if (records > 0) (_runs, _records) = (_runs + 1, _records + records);
    }

    private int Create(RunRecord run, Work work, PushState state)
    {
        var experimentId = Client.GetOrCreateExperimentId(_journal.ListExperiments().First(e => e.ExperimentId == run.ExperimentId).Name);
        var found = state.Uncertain ? Client.FindRunByTag(experimentId, ClientRunIdTag, run.RunId) : null;
        if (found is null) MarkUncertain(run.RunId, state);
        var (serverId, artifactUri) = found ?? Client.CreateRun(experimentId, run.RunName, run.StartTime, work.Tags.ToList(), run.UserId);
        (state.RunId, state.ArtifactUri) = (serverId, artifactUri);
        foreach (var (k, v) in work.Tags) state.Tags[k] = v;
        state.Uncertain = found is not null; // a run found by its tag may have metrics from that earlier attempt too
        Save(run.RunId, state);
        return found is null ? 1 + work.Tags.Count : 0;
    }

    /// <summary>After a call with an unknown outcome: each metric's leading points already on the server are not sent again.</summary>
    private void LeaveOutWhatTheServerHas(Work work, PushState state)
    {
        var kept = new List<(MetricRecord Metric, long End)>();
        foreach (var group in work.Points.GroupBy(p => p.Metric.Key))
        {
            var there = Client.GetMetricHistory(state.RunId!, group.Key).Select(m => (m.Step, m.TimestampMs, m.Value)).ToList();
            bool leading = true;
            foreach (var point in group)
            {
                leading = leading && there.Remove((point.Metric.Step, point.Metric.TimestampMs, point.Metric.Value));
                if (leading) state.Metrics[group.Key] = point.End;
                else kept.Add(point);
            }
        }
        work.Points = kept;
        state.Uncertain = false;
        Save(work.RunId, state);
    }

    private void MarkUncertain(string runId, PushState state)
    {
        if (state.Uncertain) return;
        state.Uncertain = true;
        Save(runId, state);
    }

    private string StatePath(string runId) => Path.Combine(StateFolder, runId + ".json");

    private string? ServerIdOf(string runId) => File.Exists(StatePath(runId)) ? Load(runId).RunId : null;

    private PushState Load(string runId)
    {
        try { return JsonSerializer.Deserialize<PushState>(File.ReadAllText(StatePath(runId)), Json) ?? new PushState(); }
        catch (FileNotFoundException) { return new PushState(); }
    }

    private void Save(string runId, PushState state)
    {
        Directory.CreateDirectory(StateFolder);
        AtomicFile.Write(StatePath(runId), JsonSerializer.Serialize(state, Json), durable: true);
    }

    /// <summary>What the server already has of one run.</summary>
    private sealed class PushState
    {
        public string? RunId { get; set; }
        public string? ArtifactUri { get; set; }
        public bool Uncertain { get; set; }
        public bool Complete { get; set; }
        public HashSet<string> Params { get; set; } = [];
        public SortedDictionary<string, string> Tags { get; set; } = new(StringComparer.Ordinal);
        /// <summary>Bytes of each metric file already sent.</summary>
        public SortedDictionary<string, long> Metrics { get; set; } = new(StringComparer.Ordinal);
        /// <summary>Artifact path → "size:last write" of the version sent.</summary>
        public SortedDictionary<string, string> Artifacts { get; set; } = new(StringComparer.Ordinal);
        public string? Status { get; set; }
        public long? EndTime { get; set; }
    }

    /// <summary>The journal's view of a run next to its state: everything the server may lack.</summary>
    private sealed class Work
    {
        public required string RunId { get; init; }
        public required IReadOnlyDictionary<string, string> Params { get; init; }
        public required Dictionary<string, string> Tags { get; init; }
        public required List<(MetricRecord Metric, long End)> Points { get; set; }
        public required List<(string Path, string File, string Version)> Artifacts { get; init; }
        public RunStatus? Status { get; init; }

        public bool Any(PushState state) => Points.Count > 0 || Artifacts.Count > 0 || Status is not null ||
            Params.Keys.Any(k => !state.Params.Contains(k)) || Tags.Any(t => state.Tags.GetValueOrDefault(t.Key) != t.Value);

        public static Work Of(RunRecord run, PushState state, MlflowFileStoreReader journal, Func<string, string?> serverIdOf)
        {
            var tags = new Dictionary<string, string>(journal.ReadTags(run), StringComparer.Ordinal) { [ClientRunIdTag] = run.RunId };
            if (tags.TryGetValue(MlflowTags.ParentRunId, out var parent) && serverIdOf(parent) is { } serverParent)
                tags[MlflowTags.ParentRunId] = serverParent;
            var points = new List<(MetricRecord, long)>();
            foreach (var (key, path) in MlflowFileStoreReader.EntryFiles(run, MlflowFileRun.MetricsFolder).OrderBy(e => e.Key, StringComparer.Ordinal))
                foreach (var (p, end) in MlflowFileStoreReader.ReadMetricLines(key, path, state.Metrics.GetValueOrDefault(key)))
                    points.Add((new MetricRecord(key, p.Value, p.TimestampMs, p.Step), end));
            var artifacts = new List<(string, string, string)>();
            var root = run.ArtifactUri.StartsWith("file:", StringComparison.OrdinalIgnoreCase) ? StoreFiles.FromFileUri(run.ArtifactUri) : null;
            if (root is not null && Directory.Exists(root))
                foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                {
                    var info = new FileInfo(file);
                    var version = $"{info.Length}:{info.LastWriteTimeUtc.Ticks}";
                    var path = Path.GetRelativePath(root, file).Replace('\\', '/');
                    if (state.Artifacts.GetValueOrDefault(path) != version) artifacts.Add((path, file, version));
                }
            var status = run.Status != RunStatus.Running && (state.Status != MlflowRestClient.StatusName(run.Status) || state.EndTime != run.EndTime)
                ? run.Status : (RunStatus?)null;
            return new Work { RunId = run.RunId, Params = journal.ReadParams(run), Tags = tags, Points = points, Artifacts = artifacts, Status = status };
        }
    }
}
