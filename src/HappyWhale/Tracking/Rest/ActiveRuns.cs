using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace HappyWhale.Tracking;

/// <summary>
/// The runs this machine has started and not yet ended, in a small JSON file (artifacts/mlruns-active.json), each with
/// the process that owns it. A run whose process is gone (killed, crashed, power cut) was never ended; <see cref="RecoverStale"/>
/// marks it KILLED, as MLflow shows a run that will not finish, instead of leaving it RUNNING forever.
/// </summary>
public sealed class ActiveRunRegistry
{
    public const string DefaultFileName = "mlruns-active.json";
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

    public string FilePath { get; }

    public ActiveRunRegistry(string filePath) => FilePath = Path.GetFullPath(filePath);

    /// <summary>One active run. Kind "file": Store is the store root. Kind "rest": Store is the server URI (no credentials).</summary>
    public sealed record Entry(string Kind, string Store, string RunId, string ExperimentId, string? LocalId, int Pid, long ProcessStartTicks);

    public void Add(Entry entry) => Update(list => { list.RemoveAll(e => Same(e, entry)); list.Add(entry); });

    public void Remove(Entry entry) => Update(list => list.RemoveAll(e => Same(e, entry)));

    public IReadOnlyList<Entry> List() => Read();

    public static Entry ForThisProcess(string kind, string store, string runId, string experimentId, string? localId)
    {
        using var self = Process.GetCurrentProcess();
        return new Entry(kind, store, runId, experimentId, localId, self.Id, StartTicks(self));
    }

    /// <summary>
    /// Marks the runs of dead processes KILLED (end_time now) and forgets them. File-store runs are rewritten in place;
    /// server runs go through <paramref name="rest"/> (its server only; others are kept for when that server is configured),
    /// or into its spool when the server cannot be reached. Returns how many runs were marked.
    /// </summary>
    public int RecoverStale(MlflowRestTracker? rest = null)
    {
        int marked = 0;
        foreach (var entry in Read().Where(e => !IsAlive(e)))
        {
            bool done;
            if (entry.Kind == "file")
            {
                done = true;
                if (FileStoreRecovery.MarkKilled(entry.Store, entry.ExperimentId, entry.RunId)) marked++;
            }
            else if (entry.Kind == "rest" && rest is not null && entry.Store == rest.Client.Options.BaseUri)
            {
                (done, bool killed) = RecoverRest(entry, rest);
                if (killed) marked++;
            }
            else done = entry.Kind is not ("file" or "rest");
            if (done) Remove(entry);
        }
        return marked;
    }

    private static (bool Done, bool Killed) RecoverRest(Entry entry, MlflowRestTracker rest)
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var local = entry.LocalId ?? entry.RunId;
        string? serverId = entry.RunId != local ? entry.RunId
            : rest.Spool?.ReadRunMap().TryGetValue(local, out var mapped) == true ? mapped.RunId : null;
        if (serverId is not null && !rest.IsOffline)
        {
            try
            {
                if ((string?)rest.Client.GetRun(serverId)["info"]?["status"] != "RUNNING") return (true, false);
                rest.Client.UpdateRun(serverId, RunStatus.Killed, now);
                return (true, true);
            }
            catch (MlflowRestException e) when (!e.IsTransient) { return (true, false); } // deleted, or not ours to change
            catch (MlflowRestException e) { rest.GoOffline(e); }
        }
        if (rest.Spool is null) return (false, false);
        // Still pending in the spool, or the server is down: queue the status change behind the run's other records.
        var record = new JsonObject
        {
            ["id"] = $"{local}:killed", ["run"] = local, ["seq"] = -1, ["type"] = "update",
            ["status"] = "KILLED", ["end_time"] = now, ["only_if_running"] = true,
        };
        if (serverId is not null) record["server_run"] = serverId;
        rest.Spool.Append(record);
        return (true, true);
    }

    private static bool Same(Entry a, Entry b) => a.Kind == b.Kind && a.Store == b.Store && (a.LocalId ?? a.RunId) == (b.LocalId ?? b.RunId);

    private static bool IsAlive(Entry e)
    {
        try
        {
            using var p = Process.GetProcessById(e.Pid);
            return p.HasExited is false && StartTicks(p) == e.ProcessStartTicks;
        }
        catch (ArgumentException) { return false; }          // no such process
        catch (InvalidOperationException) { return false; }   // exited meanwhile
    }

    private static long StartTicks(Process p)
    {
        try { return p.StartTime.ToUniversalTime().Ticks; }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException) { return 0; }
    }

    private List<Entry> Read()
    {
        try
        {
            if (!File.Exists(FilePath)) return [];
            return JsonSerializer.Deserialize<List<Entry>>(File.ReadAllText(FilePath)) ?? [];
        }
        catch (JsonException) { return []; }
    }

    private void Update(Action<List<Entry>> change)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
        using var _ = StoreLock.Acquire(FilePath + "#active", LockTimeout);
        var list = Read();
        change(list);
        AtomicFile.Write(FilePath, JsonSerializer.Serialize(list, new JsonSerializerOptions { WriteIndented = true }), durable: true);
    }
}

/// <summary>Rewrites a file-store run's meta.yaml from RUNNING to KILLED, keeping every other field as it was.</summary>
public static class FileStoreRecovery
{
    private static readonly HashSet<string> NumberFields = ["end_time", "start_time", "status", "source_type", "deleted_time"];

    public static bool MarkKilled(string storeRoot, string experimentId, string runId)
    {
        var metaPath = Path.Combine(storeRoot, experimentId, runId, MlflowFileStore.MetaFileName);
        var meta = MetaYaml.TryRead(metaPath);
        if (meta is null || meta.GetValueOrDefault("status") != ((int)RunStatus.Running).ToString(CultureInfo.InvariantCulture)) return false;
        var fields = new Dictionary<string, object?>(StringComparer.Ordinal) { ["tags"] = PyYaml.EmptyList };
        foreach (var (key, value) in meta)
            fields[key] = NumberFields.Contains(key) ? MlflowFileStore.ParseLong(value) : value;
        fields["status"] = (int)RunStatus.Killed;
        fields["end_time"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        StoreFiles.WriteAtomic(metaPath, PyYaml.Dump(fields));
        return true;
    }
}

/// <summary>An <see cref="ITracker"/> that keeps <see cref="ActiveRunRegistry"/> up to date around another tracker.</summary>
public sealed class ActiveRunGuard(ITracker inner, ActiveRunRegistry registry) : ITracker
{
    public ITracker Inner { get; } = inner;
    public ActiveRunRegistry Registry { get; } = registry;

    public ITrackedRun StartRun(string experimentName, string runName, IReadOnlyDictionary<string, string> tags, string? parentRunId = null)
    {
        var run = Inner.StartRun(experimentName, runName, tags, parentRunId);
        var entry = Inner switch
        {
            MlflowFileStore store => ActiveRunRegistry.ForThisProcess("file", store.RootDirectory, run.RunId, run.ExperimentId, null),
            MlflowRestTracker rest => ActiveRunRegistry.ForThisProcess("rest", rest.Client.Options.BaseUri, run.RunId, run.ExperimentId, (run as MlflowRestRun)?.LocalId),
            _ => null,
        };
        if (entry is null) return run;
        Registry.Add(entry);
        return new GuardedRun(run, Registry, entry);
    }

    private sealed class GuardedRun(ITrackedRun inner, ActiveRunRegistry registry, ActiveRunRegistry.Entry entry) : ITrackedRun
    {
        public string RunId => inner.RunId;
        public string ExperimentId => inner.ExperimentId;
        public void LogParams(IReadOnlyDictionary<string, string> parameters) => inner.LogParams(parameters);
        public void LogMetric(string key, double value, long step = 0, long? timestampMs = null) => inner.LogMetric(key, value, step, timestampMs);
        public void SetTag(string key, string value) => inner.SetTag(key, value);
        public void LogArtifact(string localPath, string? artifactDir = null) => inner.LogArtifact(localPath, artifactDir);

        public void End(RunStatus status)
        {
            inner.End(status);
            registry.Remove(entry); // only once ended: if End throws, the next start marks the run KILLED
        }
    }
}
