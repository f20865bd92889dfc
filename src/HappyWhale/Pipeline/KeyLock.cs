namespace HappyWhale.Pipeline;

/// <summary>An exclusive lock on one cache key, held for as long as the entry is being computed (a <see cref="FileLock"/>).</summary>
public sealed class KeyLock : IDisposable
{
    readonly FileLock _lock;
    KeyLock(FileLock held) => _lock = held;

    /// <exception cref="IOException">when another run still holds the key after <paramref name="timeout"/></exception>
    public static KeyLock Acquire(string lockPath, TimeSpan timeout, Action<string>? onWait = null) =>
        new(FileLock.Acquire(lockPath, timeout, TimeSpan.FromMilliseconds(250), () => onWait?.Invoke($"waiting for another run that holds {lockPath}"))
            ?? throw new IOException($"another run held {lockPath} for longer than {timeout}; is it stuck? Stop it, or wait and run again."));

    public void Dispose() => _lock.Dispose();
}
