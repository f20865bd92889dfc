using System.Threading.Channels;

namespace HappyWhale.Tracking;

/// <summary>
/// Pushes to the server on its own thread, so training never waits for the network. Journal writes wake it through a
/// bounded queue of one (a wake-up already waiting absorbs the next, so <see cref="Wake"/> never blocks), and each wake-up
/// pushes everything the journal gained since: the records wait in the journal, not in memory, so a slow or absent
/// server costs neither memory nor training time. A wake-up waits a moment for the writes that come with it (an epoch's
/// metrics), so they go in one log-batch call. While pushes fail they are retried at each wake-up and every 15 s.
/// </summary>
sealed class BackgroundSender : IDisposable
{
    private static readonly TimeSpan RetryEvery = TimeSpan.FromSeconds(15), Gather = TimeSpan.FromMilliseconds(250);
    private readonly Channel<bool> _wakeups = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Func<bool> _push;
    private readonly Thread _thread;
    private volatile bool _stopping;

    /// <param name="push">One push; true when the server took everything.</param>
    public BackgroundSender(Func<bool> push)
    {
        _push = push;
        _thread = new Thread(Loop) { IsBackground = true, Name = "mlflow-sender" };
        _thread.Start();
    }

    public void Wake() => _wakeups.Writer.TryWrite(true);

    private void Loop()
    {
        bool behind = false;
        Task<bool>? waiting = null;
        while (true)
        {
            waiting ??= _wakeups.Reader.WaitToReadAsync().AsTask();
            if (behind) waiting.Wait(RetryEvery); else waiting.Wait();
            if (waiting.IsCompleted)
            {
                if (!waiting.Result) return; // completed by Dispose and drained
                waiting = null;
                if (!_stopping) Thread.Sleep(Gather);
                _wakeups.Reader.TryRead(out _);
            }
            behind = !_push();
        }
    }

    /// <summary>Stops after the push in progress; waits for it at most <paramref name="wait"/> (the thread is a background one).</summary>
    public void Stop(TimeSpan wait)
    {
        _stopping = true;
        _wakeups.Writer.TryComplete();
        _thread.Join(wait);
    }

    public void Dispose() => Stop(TimeSpan.FromSeconds(30));
}
