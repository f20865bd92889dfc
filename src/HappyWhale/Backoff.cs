namespace HappyWhale;

/// <summary>
/// The one retry policy: waits that double from <paramref name="first"/> up to <paramref name="max"/>. The REST client
/// waits between attempts with it (honouring a server's Retry-After), and <see cref="FileLock"/> between polls (with
/// jitter, so processes waiting for the same lock do not poll in step).
/// </summary>
public sealed class Backoff(TimeSpan first, TimeSpan max, bool jitter = false)
{
    TimeSpan _delay = first;

    /// <summary>True until the first <see cref="Wait"/>.</summary>
    public bool First { get; private set; } = true;

    /// <summary>
    /// This wait: the current delay (with jitter: a random time between it and twice it), or <paramref name="atLeast"/>
    /// when that is longer, never above the maximum; then the delay doubles.
    /// </summary>
    public TimeSpan Next(TimeSpan? atLeast = null)
    {
        var wait = jitter ? TimeSpan.FromMilliseconds(Random.Shared.Next((int)_delay.TotalMilliseconds, (int)(_delay.TotalMilliseconds * 2))) : _delay;
        if (atLeast is { } least && least > wait) wait = least < max ? least : max;
        _delay = _delay * 2 < max ? _delay * 2 : max;
        First = false;
        return wait;
    }

    /// <summary>Sleeps for <see cref="Next"/>.</summary>
    public void Wait(TimeSpan? atLeast = null)
    {
        var wait = Next(atLeast);
        if (wait > TimeSpan.Zero) Thread.Sleep(wait);
    }
}
