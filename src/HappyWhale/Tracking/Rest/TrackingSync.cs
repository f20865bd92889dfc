namespace HappyWhale.Tracking;

/// <summary>What <see cref="TrackingSync.Run"/> did.</summary>
public sealed record SyncResult(string? Server, int KilledRuns, ReplayResult Replay);

/// <summary>
/// Start-of-process housekeeping for tracking: mark runs of dead processes KILLED, then replay the spool of the
/// configured server. Called by `happywhale run` before the pipeline and by `happywhale sync-tracking`.
/// </summary>
public static class TrackingSync
{
    public static SyncResult Run(string? trackingUri, string repoRoot, HttpMessageHandler? handler = null)
    {
        var registry = new ActiveRunRegistry(TrackerFactory.ActiveRunsFile(repoRoot));
        if (!TrackerFactory.IsHttp(trackingUri))
            return new SyncResult(null, registry.RecoverStale(), ReplayResult.Nothing);
        using var tracker = new MlflowRestTracker(MlflowRestOptions.FromEnvironment(trackingUri!, TrackerFactory.SpoolRoot(repoRoot)), handler);
        int killed = registry.RecoverStale(tracker);
        var replay = tracker.Spool is null ? ReplayResult.Nothing : new SpoolReplayer(tracker.Spool, tracker.Client).Replay();
        return new SyncResult(tracker.Client.Options.BaseUri, killed, replay);
    }
}
