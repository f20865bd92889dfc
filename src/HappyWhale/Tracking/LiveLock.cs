namespace HappyWhale.Tracking;

/// <summary>
/// Held by the process that records a run for as long as the run is RUNNING: an OS file lock (FileShare.None, which .NET
/// takes with flock on Unix), so a process that dies, even by SIGKILL, lets go of it. A lock file that no process holds
/// belongs to an abandoned run, which <see cref="RecoverAbandoned"/> ends KILLED in the journal. The file holds the journal's
/// root; its name is the run id.
/// </summary>
sealed class LiveLock : IDisposable
{
    private readonly FileStream _stream;
    private readonly string _path;

    public string RunId { get; }

    private LiveLock(FileStream stream, string path, string runId) => (_stream, _path, RunId) = (stream, path, runId);

    /// <summary>Takes the lock of a new run id, before the run exists, so no run is ever RUNNING without its lock.</summary>
    public static LiveLock Take(string folder, string journalRoot)
    {
        Directory.CreateDirectory(folder);
        var runId = Guid.NewGuid().ToString("N");
        var path = Path.Combine(folder, runId + ".lock");
        var stream = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
        stream.Write(StoreFiles.Utf8.GetBytes(journalRoot));
        stream.Flush();
        return new LiveLock(stream, path, runId);
    }

    /// <summary>The run has ended: the file is removed while still held, so no other process can take it in between.</summary>
    public void Dispose()
    {
        try { File.Delete(_path); } catch (IOException) { }
        _stream.Dispose();
    }

    /// <summary>Ends KILLED every RUNNING journal run whose lock no process holds; returns their ids.</summary>
    public static IReadOnlyList<string> RecoverAbandoned(string folder)
    {
        var killed = new List<string>();
        if (!Directory.Exists(folder)) return killed;
        foreach (var path in Directory.EnumerateFiles(folder, "*.lock"))
        {
            FileStream stream;
            try { stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; } // held by a live process, or just removed
            using (stream)
            {
                var journalRoot = new StreamReader(stream, StoreFiles.Utf8).ReadToEnd();
                if (journalRoot.Length == 0) continue; // its owner may be between creating and writing it
                var runId = Path.GetFileNameWithoutExtension(path);
                if (Directory.Exists(journalRoot) && new MlflowFileStoreReader(journalRoot).FindRun(runId) is { Status: RunStatus.Running } run)
                {
                    MlflowFileRun.Open(run).End(RunStatus.Killed);
                    killed.Add(runId);
                }
                File.Delete(path);
            }
        }
        return killed;
    }
}
