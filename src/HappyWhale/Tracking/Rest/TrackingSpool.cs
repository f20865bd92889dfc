using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace HappyWhale.Tracking;

/// <summary>
/// The local spool of MLflow records that could not be sent. One folder per server:
/// <code>
/// spool.jsonl   append-only JSON lines, each fsynced; line 1 is a header {"spool": id}, then one record per call
/// cursor.json   {"spool": id, "done": n, "inflight": bool}: records [0, n) are on the server; replaced atomically, fsynced
/// runs.json     local run id → server run id, experiment id, artifact URI, for runs created at replay
/// artifacts/    copies of artifact files, so a later change to the source does not change what is replayed
/// </code>
/// A record: {"id": "&lt;local run id&gt;:&lt;seq&gt;", "run": local id, "seq": n, "type": create_run|log_batch|set_tag|update|artifact,
/// "server_run": id when the run already exists on the server, "verify": true when a send was attempted and its outcome is unknown, ...}.
/// Its id is its idempotency identity: the cursor and the run map are what make a replay exactly-once.
/// </summary>
public sealed class TrackingSpool
{
    public const string SpoolFileName = "spool.jsonl";
    public const string CursorFileName = "cursor.json";
    public const string RunMapFileName = "runs.json";
    public const string ArtifactsFolderName = "artifacts";
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(60);

    public string Directory { get; }
    public string SpoolFile => Path.Combine(Directory, SpoolFileName);
    public string CursorFile => Path.Combine(Directory, CursorFileName);
    public string RunMapFile => Path.Combine(Directory, RunMapFileName);

    public TrackingSpool(string directory) => Directory = Path.GetFullPath(directory);

    /// <summary>Appends one record as one line and fsyncs it. Safe across processes (a short exclusive lock).</summary>
    public void Append(JsonObject record)
    {
        var line = record.ToJsonString() + "\n";
        System.IO.Directory.CreateDirectory(Directory);
        using var _ = AppendLock();
        using var stream = new FileStream(SpoolFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        var header = stream.Length == 0 ? new JsonObject { ["spool"] = Guid.NewGuid().ToString("N"), ["version"] = 1 }.ToJsonString() + "\n" : "";
        // A crash mid-write can leave a last line without its newline; start on a fresh line so that torn line stays alone.
        if (stream.Length > 0)
        {
            stream.Seek(-1, SeekOrigin.End);
            if (stream.ReadByte() != '\n') header = "\n";
        }
        stream.Seek(0, SeekOrigin.End);
        stream.Write(StoreFiles.Utf8.GetBytes(header + line));
        stream.Flush(flushToDisk: true);
    }

    /// <summary>Copies an artifact file into the spool; returns its path relative to the spool folder.</summary>
    public string StoreArtifact(string localRunId, long seq, string sourceFile)
    {
        var relative = Path.Combine(ArtifactsFolderName, localRunId, seq.ToString(System.Globalization.CultureInfo.InvariantCulture), Path.GetFileName(sourceFile));
        var target = Path.Combine(Directory, relative);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        using (var input = File.OpenRead(sourceFile))
        using (var output = new FileStream(target, FileMode.Create, FileAccess.Write))
        {
            input.CopyTo(output);
            output.Flush(flushToDisk: true);
        }
        return relative.Replace('\\', '/');
    }

    /// <summary>The spool's id and its records in order; a torn or unreadable line is returned as null.</summary>
    public (string? SpoolId, List<JsonObject?> Records) Read()
    {
        if (!File.Exists(SpoolFile)) return (null, []);
        string? id = null;
        var records = new List<JsonObject?>();
        using var reader = new StreamReader(new FileStream(SpoolFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete), StoreFiles.Utf8);
        bool first = true;
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0) continue;
            JsonObject? o = null;
            try { o = JsonNode.Parse(line) as JsonObject; } catch (JsonException) { }
            if (first)
            {
                first = false;
                id = (string?)o?["spool"];
                if (id is not null) continue;
            }
            records.Add(o);
        }
        return (id, records);
    }

    /// <summary>Records not yet on the server.</summary>
    public int PendingCount()
    {
        var (id, records) = Read();
        var cursor = ReadCursor();
        return cursor.SpoolId == id ? Math.Max(0, records.Count - cursor.Done) : records.Count;
    }

    public readonly record struct Cursor(string? SpoolId, int Done, bool InFlight);

    public Cursor ReadCursor()
    {
        try
        {
            if (JsonNode.Parse(File.ReadAllText(CursorFile)) is JsonObject o)
                return new Cursor((string?)o["spool"], (int?)o["done"] ?? 0, (bool?)o["inflight"] ?? false);
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException) { }
        return new Cursor(null, 0, false);
    }

    public void WriteCursor(Cursor cursor) =>
        WriteDurable(CursorFile, new JsonObject { ["spool"] = cursor.SpoolId, ["done"] = cursor.Done, ["inflight"] = cursor.InFlight }.ToJsonString());

    public sealed record ServerRun(string RunId, string ExperimentId, string ArtifactUri);

    public Dictionary<string, ServerRun> ReadRunMap()
    {
        var map = new Dictionary<string, ServerRun>(StringComparer.Ordinal);
        try
        {
            if (File.Exists(RunMapFile) && JsonNode.Parse(File.ReadAllText(RunMapFile)) is JsonObject o)
                foreach (var (local, v) in o)
                    if (v is JsonObject r && (string?)r["run_id"] is { } runId)
                        map[local] = new ServerRun(runId, (string?)r["experiment_id"] ?? "", (string?)r["artifact_uri"] ?? "");
        }
        catch (JsonException) { }
        return map;
    }

    public void WriteRunMap(IReadOnlyDictionary<string, ServerRun> map)
    {
        var o = new JsonObject();
        foreach (var (local, r) in map)
            o[local] = new JsonObject { ["run_id"] = r.RunId, ["experiment_id"] = r.ExperimentId, ["artifact_uri"] = r.ArtifactUri };
        WriteDurable(RunMapFile, o.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>
    /// Removes a fully replayed spool (file and artifact copies), under the append lock so no record lands in between.
    /// The spool goes first: a crash before the cursor is removed leaves a cursor whose spool id matches nothing.
    /// </summary>
    public bool CompactIfDone(string spoolId, int done)
    {
        using var _ = AppendLock();
        var (id, records) = Read();
        if (id != spoolId || records.Count != done) return false;
        File.Delete(SpoolFile);
        File.Delete(CursorFile);
        var artifacts = Path.Combine(Directory, ArtifactsFolderName);
        if (System.IO.Directory.Exists(artifacts)) System.IO.Directory.Delete(artifacts, recursive: true);
        return true;
    }

    internal IDisposable AppendLock() => StoreLock.Acquire(Directory + "#append", LockTimeout);

    internal IDisposable ReplayLock(TimeSpan timeout) => StoreLock.Acquire(Directory + "#replay", timeout);

    /// <summary>Temp file, fsync, rename over the target: a reader sees the old or the new content, never a mix.</summary>
    static void WriteDurable(string path, string content)
    {
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.Write(path, content, durable: true);
    }
}
