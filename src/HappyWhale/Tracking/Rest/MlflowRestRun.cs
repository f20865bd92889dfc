using System.Text.Json.Nodes;

namespace HappyWhale.Tracking;

/// <summary>
/// One run on an MLflow server. Metrics and params are buffered and sent with runs/log-batch when a call's worth
/// has gathered (1000 metrics, 100 params) and at <see cref="End"/>, so 5,000 metric points take 5 calls.
/// Once a call fails after its retries the run is "degraded": that record and every later one go to the spool,
/// in order, so the replay sees them as they happened. A run whose runs/create never reached the server is "pending".
/// </summary>
public sealed class MlflowRestRun : ITrackedRun
{
    private readonly object _gate = new();
    private readonly MlflowRestTracker _tracker;
    private readonly List<MetricRecord> _metrics = [];
    private readonly List<KeyValuePair<string, string>> _params = [];
    private readonly Dictionary<string, string> _loggedParams = new(StringComparer.Ordinal);
    private readonly string? _serverRunId;
    private readonly string? _artifactUri;
    private bool _degraded;
    private long _seq;

    /// <summary>Client-generated id; with a sequence number it names each record (the idempotency identity).</summary>
    public string LocalId { get; }
    /// <summary>The server's run id, or the local id while the run exists only in the spool.</summary>
    public string RunId => _serverRunId ?? LocalId;
    /// <summary>The server's experiment id; empty while the run exists only in the spool.</summary>
    public string ExperimentId { get; }
    public bool IsPending => _serverRunId is null;
    /// <summary>True when at least one record of this run went to the spool.</summary>
    public bool IsSpooling => _degraded || IsPending;

    internal MlflowRestRun(MlflowRestTracker tracker, string localId, string? serverRunId, string? experimentId, string? artifactUri)
    {
        _tracker = tracker;
        LocalId = localId;
        _serverRunId = serverRunId;
        ExperimentId = experimentId ?? "";
        _artifactUri = artifactUri;
    }

    public void LogParams(IReadOnlyDictionary<string, string> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        lock (_gate)
        {
            foreach (var (key, value) in parameters)
            {
                MlflowNames.ValidateKey("parameter", key);
                var clean = _tracker.CleanValue(value, MlflowNames.MaxParamValueLength);
                // Params are immutable in MLflow; say so here rather than as a server error far from the cause.
                if (_loggedParams.TryGetValue(key, out var current))
                {
                    if (current != clean)
                        throw new ArgumentException($"Changing param values is not allowed. Param with key='{key}' was already logged with a different value for run ID='{RunId}'.");
                    continue;
                }
                _loggedParams[key] = clean;
                _params.Add(new(key, clean));
            }
            while (_params.Count >= LogBatchChunker.MaxParams) FlushFull();
        }
    }

    public void LogMetric(string key, double value, long step = 0, long? timestampMs = null)
    {
        long timestamp = MlflowNames.ValidateMetric(key, timestampMs);
        lock (_gate)
        {
            _metrics.Add(new MetricRecord(key, value, timestamp, step));
            if (_metrics.Count >= LogBatchChunker.MaxMetrics) FlushFull();
        }
    }

    public void SetTag(string key, string value)
    {
        MlflowNames.ValidateKey("tag", key);
        var clean = _tracker.CleanValue(value, MlflowNames.MaxTagValueLength);
        lock (_gate)
        {
            var record = NewRecord("set_tag");
            record["key"] = key;
            record["value"] = clean;
            Send(record, () => _tracker.Client.SetTag(_serverRunId!, key, clean));
        }
    }

    public void LogArtifact(string localPath, string? artifactDir = null)
    {
        MlflowNames.ValidateArtifactPath(artifactDir);
        var files = new List<(string File, string ArtifactPath)>();
        if (File.Exists(localPath))
            files.Add((localPath, Join(artifactDir, Path.GetFileName(localPath))));
        else if (Directory.Exists(localPath))
        {
            // Like the MLflow client: the folder is logged under its own name inside the artifact path.
            var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(localPath));
            foreach (var file in Directory.EnumerateFiles(localPath, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                files.Add((file, Join(artifactDir, name + "/" + Path.GetRelativePath(localPath, file).Replace('\\', '/'))));
        }
        else
            throw new FileNotFoundException($"Artifact source '{localPath}' does not exist.", localPath);

        lock (_gate)
            foreach (var (file, artifactPath) in files)
            {
                var record = NewRecord("artifact");
                record["path"] = artifactPath;
                if (_artifactUri is not null) record["artifact_root"] = _artifactUri;
                Send(record, () => _tracker.Client.PutArtifact(ArtifactRoot, artifactPath, file), spoolFile: file);
            }
    }

    /// <summary>Sends what is buffered (in as few log-batch calls as the limits allow).</summary>
    public void Flush()
    {
        lock (_gate)
        {
            foreach (var batch in LogBatchChunker.Chunk(_metrics, _params, []))
                SendBatch(batch);
            _metrics.Clear();
            _params.Clear();
        }
    }

    public void End(RunStatus status)
    {
        if (!Enum.IsDefined(status)) throw new ArgumentOutOfRangeException(nameof(status), status, "Unknown run status.");
        lock (_gate)
        {
            Flush();
            long end = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var record = NewRecord("update");
            record["status"] = MlflowRestClient.StatusName(status);
            record["end_time"] = end;
            Send(record, () => _tracker.Client.UpdateRun(_serverRunId!, status, end));
        }
    }

    // One full call's worth: take the first chunk only, keep the rest buffered.
    private void FlushFull()
    {
        var batch = LogBatchChunker.Chunk(_metrics, _params, [])[0];
        _metrics.RemoveRange(0, batch.Metrics.Count);
        _params.RemoveRange(0, batch.Params.Count);
        SendBatch(batch);
    }

    private void SendBatch(LogBatch batch)
    {
        var record = NewRecord("log_batch");
        foreach (var (k, v) in batch.ToJson()) record[k] = v?.DeepClone();
        Send(record, () => _tracker.Client.LogBatchOnce(_serverRunId!, batch, mayAlreadyBeApplied: false));
    }

    private string ArtifactRoot => _artifactUri is { Length: > 0 } ? _artifactUri : MlflowRestClient.DefaultArtifactRoot(ExperimentId, _serverRunId!);

    /// <summary>Live when the run is on the server and nothing is spooled; otherwise (or when the call fails after retries) to the spool.</summary>
    private void Send(JsonObject record, Action live, string? spoolFile = null)
    {
        if (!IsSpooling && !_tracker.IsOffline)
        {
            try
            {
                live();
                return;
            }
            catch (MlflowRestException e) when (e.IsTransient && _tracker.Spool is not null)
            {
                _tracker.GoOffline(e);
                record["verify"] = true; // sent, outcome unknown
            }
            catch (MlflowRestException e) when (record["type"]?.ToString() == "artifact")
            {
                // A server that does not proxy artifacts (--no-serve-artifacts) answers 4xx; the file stays in the run folder.
                _tracker.Client.Options.Log(_tracker.Scrubber.Scrub($"warning: artifact '{record["path"]}' not uploaded: {e.Message}"));
                return;
            }
        }
        if (_tracker.Spool is null)
            throw new InvalidOperationException("The MLflow server is unreachable and no spool folder is configured.");
        _degraded = true;
        if (_serverRunId is not null) record["server_run"] = _serverRunId;
        if (spoolFile is not null) record["file"] = _tracker.Spool.StoreArtifact(LocalId, (long)record["seq"]!, spoolFile);
        _tracker.Spool.Append(record);
    }

    internal JsonObject NewRecord(string type)
    {
        long seq = _seq++;
        return new JsonObject { ["id"] = $"{LocalId}:{seq}", ["run"] = LocalId, ["seq"] = seq, ["type"] = type };
    }

    private static string Join(string? dir, string name) => string.IsNullOrEmpty(dir) ? name : dir.TrimEnd('/') + "/" + name;
}
