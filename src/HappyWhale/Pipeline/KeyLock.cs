namespace HappyWhale.Pipeline;

/// <summary>
/// An exclusive lock on one cache key, held for as long as the entry is being computed.
/// .NET maps FileShare.None to an advisory flock on Unix, which the kernel releases when the
/// process dies, so a killed run never leaves a lock that blocks the next one.
/// </summary>
public sealed class KeyLock : IDisposable
{
    readonly FileStream _stream;
    KeyLock(FileStream stream) => _stream = stream;

    public static KeyLock Acquire(string lockPath, TimeSpan timeout, Action<string>? onWait = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(lockPath)!);
        var deadline = DateTime.UtcNow + timeout;
        bool told = false;
        while (true)
        {
            try
            {
                return new KeyLock(new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                if (!told) { onWait?.Invoke($"waiting for another run that holds {lockPath}"); told = true; }
                Thread.Sleep(250);
            }
        }
    }

    public void Dispose() => _stream.Dispose();
}
