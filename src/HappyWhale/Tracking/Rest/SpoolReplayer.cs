using System.Text.Json.Nodes;

namespace HappyWhale.Tracking;

/// <summary>What a replay did. <see cref="StoppedBecause"/> is set when it stopped early (server still down, ...).</summary>
public sealed record ReplayResult(int Replayed, int Skipped, int Rejected, int Remaining, string? StoppedBecause)
{
    public static ReplayResult Nothing { get; } = new(0, 0, 0, 0, null);
}

/// <summary>
/// Sends the spooled records to the server, in order, exactly once. The cursor (records done, and whether one was
/// in flight) is fsynced after each record's call succeeds and never before, and each record is one call that the
/// server applies whole (runs/create, one log-batch, one set-tag, one update, one artifact PUT). A replay that is
/// interrupted resumes at the first record without a confirmed success; if that record was in flight, its effect
/// is checked first (the run by its client id tag; a log-batch by its first metric point, <see cref="MlflowRestClient.LogBatchOnce"/>).
/// Records the server rejects (4xx other than auth) are moved to rejected.jsonl so one bad record cannot block the rest.
/// </summary>
public sealed class SpoolReplayer
{
    public const string RejectedFileName = "rejected.jsonl";

    private readonly TrackingSpool _spool;
    private readonly MlflowRestClient _client;

    public SpoolReplayer(TrackingSpool spool, MlflowRestClient client)
    {
        _spool = spool;
        _client = client;
    }

    public ReplayResult Replay()
    {
        if (!File.Exists(_spool.SpoolFile)) return ReplayResult.Nothing;
        IDisposable gate;
        try { gate = _spool.ReplayLock(TimeSpan.FromSeconds(2)); }
        catch (TimeoutException) { return new ReplayResult(0, 0, 0, _spool.PendingCount(), "another process is replaying this spool"); }
        using (gate)
        {
            var (spoolId, records) = _spool.Read();
            if (spoolId is null) return new ReplayResult(0, 0, 0, records.Count, "the spool file has no header");
            var cursor = _spool.ReadCursor();
            if (cursor.SpoolId != spoolId) cursor = new TrackingSpool.Cursor(spoolId, 0, false);
            var map = _spool.ReadRunMap();
            int replayed = 0, skipped = 0, rejected = 0;
            for (int i = cursor.Done; i < records.Count; i++)
            {
                var record = records[i];
                bool inFlight = cursor.InFlight && i == cursor.Done;
                if (record is null)
                {
                    // A line torn by a crash while it was being appended: that call never returned, nothing to send.
                    skipped++;
                }
                else
                {
                    _spool.WriteCursor(cursor = new TrackingSpool.Cursor(spoolId, i, InFlight: true));
                    try
                    {
                        if (Apply(record, map, inFlight || (bool?)record["verify"] == true)) replayed++;
                        else skipped++;
                    }
                    catch (MlflowRestException e) when (e.IsTransient || e.StatusCode is 401 or 403)
                    {
                        return new ReplayResult(replayed, skipped, rejected, records.Count - i, e.Message);
                    }
                    catch (Exception e) when (e is MlflowRestException or IOException or FormatException or InvalidOperationException or NullReferenceException or InvalidCastException)
                    {
                        Reject(record, _client.Scrubber.Scrub(e.Message));
                        rejected++;
                    }
                }
                _spool.WriteCursor(cursor = new TrackingSpool.Cursor(spoolId, i + 1, InFlight: false));
            }
            _spool.CompactIfDone(spoolId, records.Count);
            return new ReplayResult(replayed, skipped, rejected, 0, null);
        }
    }

    /// <summary>Sends one record; false when it turned out to be on the server already.</summary>
    private bool Apply(JsonObject record, Dictionary<string, TrackingSpool.ServerRun> map, bool mayBeApplied)
    {
        string type = (string)record["type"]!;
        string local = (string)record["run"]!;
        if (type == "create_run")
        {
            if (map.ContainsKey(local)) return false;
            var experimentId = _client.GetOrCreateExperimentId((string)record["experiment"]!);
            var tags = LogBatch.ReadPairs(record["tags"] as JsonArray);
            for (int t = 0; t < tags.Count; t++)
                if (tags[t].Key == MlflowTags.ParentRunId && map.TryGetValue(tags[t].Value, out var parent))
                    tags[t] = new(tags[t].Key, parent.RunId);
            var user = tags.FirstOrDefault(t => t.Key == MlflowTags.User).Value;
            var (runId, artifactUri) = _client.CreateRun(experimentId, (string)record["run_name"]!, (long)record["start_time"]!, tags, user, mayBeApplied);
            map[local] = new TrackingSpool.ServerRun(runId, experimentId, artifactUri);
            _spool.WriteRunMap(map);
            return true;
        }

        var server = (string?)record["server_run"] is { } direct ? new TrackingSpool.ServerRun(direct, "", (string?)record["artifact_root"] ?? "")
            : map.TryGetValue(local, out var mapped) ? mapped
            : throw new InvalidOperationException($"Record {record["id"]}: its run was never created (no create_run before it).");
        switch (type)
        {
            case "log_batch":
                _client.LogBatchOnce(server.RunId, LogBatch.FromJson(record), mayBeApplied);
                return true;
            case "set_tag":
                _client.SetTag(server.RunId, (string)record["key"]!, (string)record["value"]!);
                return true;
            case "update":
                if ((bool?)record["only_if_running"] == true &&
                    (string?)_client.GetRun(server.RunId)["info"]?["status"] != "RUNNING") return false;
                _client.UpdateRun(server.RunId, MlflowRestClient.ParseStatus((string?)record["status"]), (long)record["end_time"]!);
                return true;
            case "artifact":
                var root = server.ArtifactUri is { Length: > 0 } uri ? uri
                    : MlflowRestClient.DefaultArtifactRoot(server.ExperimentId.Length > 0 ? server.ExperimentId : (string)_client.GetRun(server.RunId)["info"]!["experiment_id"]!, server.RunId);
                _client.PutArtifact(root, (string)record["path"]!, Path.Combine(_spool.Directory, (string)record["file"]!));
                return true;
            default:
                throw new InvalidOperationException($"Record {record["id"]}: unknown type '{type}'.");
        }
    }

    private void Reject(JsonObject record, string reason)
    {
        var copy = (JsonObject)record.DeepClone();
        copy["rejected_because"] = reason;
        using var stream = new FileStream(Path.Combine(_spool.Directory, RejectedFileName), FileMode.Append, FileAccess.Write);
        stream.Write(StoreFiles.Utf8.GetBytes(copy.ToJsonString() + "\n"));
        stream.Flush(flushToDisk: true);
        _client.Options.Log($"warning: MLflow rejected spooled record {record["id"]}: {reason} (kept in {RejectedFileName})");
    }
}
