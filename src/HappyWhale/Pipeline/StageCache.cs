using System.Text.Json.Nodes;

namespace HappyWhale.Pipeline;

/// <summary>How a stage's cache entry came to be available in this run.</summary>
/// <remarks>Deferred: not run in this process; an executor plans it for a job elsewhere (see <see cref="IStageGate"/>).</remarks>
public enum CacheOutcome { Hit, Computed, Deferred }

/// <summary>A complete, verified cache entry.</summary>
public sealed record CacheEntry(string Stage, string Key, string Folder, CacheManifest Manifest, CacheOutcome Outcome, TimeSpan Elapsed);

/// <summary>
/// The content-addressed stage cache: artifacts/cache/&lt;stage&gt;/&lt;key&gt;/ with manifest.json.
/// Outputs are computed into a temporary sibling folder and renamed into place, so an
/// interrupted computation never leaves an entry that looks complete.
/// </summary>
public sealed class StageCache(string root, bool verifyHashes = false)
{
    public string Root { get; } = Path.GetFullPath(root);

    public string EntryFolder(string stage, string key) => Path.Combine(Root, stage, key);

    /// <summary>
    /// Scratch space that survives a killed run (unlike the temporary output folder), for a stage
    /// that checkpoints its progress; deleted once the entry is complete.
    /// </summary>
    public string WorkFolder(string stage, string key) => Path.Combine(Root, stage, ".work-" + key);

    /// <summary>The entry when it exists and verifies, otherwise null.</summary>
    public CacheEntry? TryGet(StageRequest request)
    {
        var started = DateTime.UtcNow;
        string key = request.Key;   // a hash of the canonical request, computed on every read
        string folder = EntryFolder(request.Stage, key);
        var manifest = CacheManifest.TryRead(folder);
        if (manifest is null || manifest.Key != key || manifest.Verify(folder, verifyHashes) is not null) return null;
        return new CacheEntry(request.Stage, key, folder, manifest, CacheOutcome.Hit, DateTime.UtcNow - started);
    }

    /// <summary>
    /// Returns the cached entry, or computes it under the key's lock. <paramref name="compute"/>
    /// writes its files into the folder it is given and returns a summary for the manifest.
    /// </summary>
    public CacheEntry GetOrCompute(StageRequest request, Func<string, JsonObject> compute, bool force = false,
        Action<string>? log = null)
    {
        if (!force && TryGet(request) is { } hit) return hit;

        string key = request.Key;
        string stageFolder = Path.Combine(Root, request.Stage);
        using var keyLock = LockKey(Path.Combine(stageFolder, key + ".lock"), TimeSpan.FromHours(48), log);
        // Another process may have finished the entry while this one waited for the lock.
        if (!force && TryGet(request) is { } late) return late;

        RemoveStaleTemporaries(stageFolder, key);
        string temp = Path.Combine(stageFolder, $".tmp-{key}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        var started = DateTimeOffset.UtcNow;
        try
        {
            var summary = compute(temp);
            var manifest = CacheManifest.Build(request, temp, started, summary);
            manifest.Write(temp);
            string final = EntryFolder(request.Stage, key);
            if (Directory.Exists(final))
            {
                // --force: set the old entry aside first so the rename below stays atomic.
                string old = Path.Combine(stageFolder, $".old-{key}-{Guid.NewGuid():N}");
                Directory.Move(final, old);
                Directory.Move(temp, final);
                Directory.Delete(old, recursive: true);
            }
            else
            {
                Directory.Move(temp, final);
            }
            TryDelete(WorkFolder(request.Stage, key));
            return new CacheEntry(request.Stage, key, final, manifest, CacheOutcome.Computed, manifest.Finished - started);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>The exclusive lock on one cache key, held while its entry is computed.</summary>
    /// <exception cref="IOException">when another run still holds the key after <paramref name="timeout"/></exception>
    public static FileLock LockKey(string lockPath, TimeSpan timeout, Action<string>? onWait = null) =>
        FileLock.Acquire(lockPath, timeout, TimeSpan.FromMilliseconds(250), () => onWait?.Invoke($"waiting for another run that holds {lockPath}"))
        ?? throw new IOException($"another run held {lockPath} for longer than {timeout}; is it stuck? Stop it, or wait and run again.");

    static readonly HashSet<string> Swept = [];

    /// <summary>
    /// Clears what killed runs left anywhere in the cache, once per process: temporary and set-aside folders
    /// older than <paramref name="minAge"/> (default a day) whose key no live process holds, and lock files
    /// no live process holds. A run's own key gets the same treatment, without the age limit, when it computes.
    /// </summary>
    public int RemoveStale(TimeSpan? minAge = null)
    {
        lock (Swept) if (!Swept.Add(Root)) return 0;
        if (!Directory.Exists(Root)) return 0;
        var before = DateTime.UtcNow - (minAge ?? TimeSpan.FromDays(1));
        int removed = 0;
        foreach (var stageFolder in Directory.EnumerateDirectories(Root))
        {
            foreach (var dir in Directory.EnumerateDirectories(stageFolder, ".tmp-*").Concat(Directory.EnumerateDirectories(stageFolder, ".old-*")).ToList())
            {
                // .tmp-<key>-<pid>-<guid> and .old-<key>-<guid>: the key is the second part.
                var parts = Path.GetFileName(dir).Split('-');
                if (parts.Length < 3 || Directory.GetLastWriteTimeUtc(dir) > before) continue;
                using var held = FileLock.TryAcquire(Path.Combine(stageFolder, parts[1] + ".lock"));
                if (held is null) continue;
                TryDelete(dir);
                removed++;
            }
            removed += FileLock.RemoveOrphans(Directory.EnumerateFiles(stageFolder, "*.lock").ToList());
        }
        return removed;
    }

    /// <summary>Left by killed runs; safe to delete because this process holds the key's lock.</summary>
    static void RemoveStaleTemporaries(string stageFolder, string key)
    {
        if (!Directory.Exists(stageFolder)) return;
        foreach (var dir in Directory.EnumerateDirectories(stageFolder, $".tmp-{key}-*")) TryDelete(dir);
        foreach (var dir in Directory.EnumerateDirectories(stageFolder, $".old-{key}-*")) TryDelete(dir);
    }

    static void TryDelete(string dir)
    {
        try { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
