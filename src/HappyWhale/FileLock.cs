namespace HappyWhale;

/// <summary>
/// An exclusive lock between processes, held through a lock file. .NET maps FileShare.None to an
/// advisory flock on Unix, which the kernel releases when the holder dies, so a killed run never
/// blocks the next one. The holder deletes the file when it lets go, so lock files do not pile up.
/// Deleting a lock file is only safe with one more check: a waiter may have opened the file just
/// before it was deleted and then lock a file no path names any more, while a third process creates
/// and locks a new one. So a lock counts only when the path still names the locked file, compared
/// through a modification time stamped on it (each acquirer writes its own).
/// </summary>
public sealed class FileLock : IDisposable
{
    readonly FileStream _stream;
    public string Path { get; }

    FileLock(string path, FileStream stream) { Path = path; _stream = stream; }

    /// <summary>The lock, or null at once when another holder has it.</summary>
    public static FileLock? TryAcquire(string path)
    {
        FileStream stream;
        try { stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
        catch (IOException) { return null; }
        // Windows refuses to delete an open file, so there is nothing to check there.
        if (OperatingSystem.IsWindows() || IsNamedBy(path, stream)) return new FileLock(path, stream);
        stream.Dispose();
        return null;
    }

    /// <summary>Whether <paramref name="path"/> still names the file <paramref name="stream"/> has open (stamps a new modification time on it).</summary>
    public static bool IsNamedBy(string path, FileStream stream)
    {
        try
        {
            File.SetLastWriteTimeUtc(stream.SafeFileHandle, UniqueStamp());
            // Read back through the handle: a file system that keeps coarser times rounds both sides alike.
            return File.GetLastWriteTimeUtc(stream.SafeFileHandle) == File.GetLastWriteTimeUtc(path);
        }
        catch (IOException) { return false; }
    }

    /// <summary>Waits for the lock (polling, up to <paramref name="maxDelay"/> apart); null after <paramref name="timeout"/>.</summary>
    public static FileLock? Acquire(string path, TimeSpan timeout, TimeSpan maxDelay, Action? onFirstWait = null)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        var deadline = DateTime.UtcNow + timeout;
        var backoff = new Backoff(TimeSpan.FromMilliseconds(5), maxDelay, jitter: true);
        while (true)
        {
            if (TryAcquire(path) is { } held) return held;
            if (DateTime.UtcNow >= deadline) return null;
            if (backoff.First) onFirstWait?.Invoke();
            backoff.Wait();
        }
    }

    /// <summary>Deletes each of these lock files that no live process holds (left by killed runs); returns how many.</summary>
    public static int RemoveOrphans(IEnumerable<string> lockFiles)
    {
        int removed = 0;
        foreach (var file in lockFiles)
            using (var orphan = TryAcquire(file))
                if (orphan is not null) removed++;
        return removed;
    }

    static DateTime UniqueStamp() =>
        new(DateTime.UtcNow.Ticks / TimeSpan.TicksPerMillisecond * TimeSpan.TicksPerMillisecond + Random.Shared.Next(1, (int)TimeSpan.TicksPerMillisecond), DateTimeKind.Utc);

    public void Dispose()
    {
        // Deleted while still held, so no one else can hold this file when it goes.
        if (!OperatingSystem.IsWindows())
            try { File.Delete(Path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        _stream.Dispose();
    }
}
