using HappyWhale.Tracking;

namespace HappyWhale.Tests.Tracking;

/// <summary>A run whose process died is marked KILLED at the next start, in the file store and on a server.</summary>
public sealed class ActiveRunRecoveryTests : IDisposable
{
    private const int DeadPid = 0x3FFFFFFF; // above Linux's pid_max: no such process
    private readonly RestTestKit _kit = new();
    private static readonly Dictionary<string, string> NoTags = new();

    public void Dispose() => _kit.Dispose();

    private ActiveRunRegistry Registry() => new(TrackerFactory.ActiveRunsFile(_kit.Temp.Folder));

    [Fact]
    public void Guard_RecordsRunsWhileTheyRun()
    {
        var tracker = TrackerFactory.Create(null, _kit.Temp.Folder);
        var run = tracker.StartRun("exp", "r", NoTags);
        Assert.Single(Registry().List());
        Assert.Equal(0, Registry().RecoverStale()); // our own process is alive: left alone
        run.End(RunStatus.Finished);
        Assert.Empty(Registry().List());
    }

    [Fact]
    public void FileStore_RunOfADeadProcess_BecomesKilled()
    {
        var store = new MlflowFileStore(Path.Combine(_kit.Temp.Folder, "artifacts", "mlruns"));
        var run = store.StartRun("exp", "r", NoTags);
        var alive = store.StartRun("exp", "alive", NoTags);
        Registry().Add(new ActiveRunRegistry.Entry("file", store.RootDirectory, run.RunId, run.ExperimentId, null, DeadPid, 0));
        Registry().Add(ActiveRunRegistry.ForThisProcess("file", store.RootDirectory, alive.RunId, alive.ExperimentId, null));

        var result = TrackingSync.Run(null, _kit.Temp.Folder);

        Assert.Equal(1, result.KilledRuns);
        var reader = new MlflowFileStoreReader(store.RootDirectory);
        var killed = reader.FindRun(run.RunId)!;
        Assert.Equal(RunStatus.Killed, killed.Status);
        Assert.NotNull(killed.EndTime);
        Assert.Equal("r", killed.RunName);
        Assert.Equal(RunStatus.Running, reader.FindRun(alive.RunId)!.Status);
        Assert.Equal(alive.RunId, Assert.Single(Registry().List()).RunId);
    }

    [Fact]
    public void Server_RunOfADeadProcess_BecomesKilled_AlsoWhenItWasOnlySpooled()
    {
        using var server = new FakeMlflowServer();
        using var tracker = _kit.Tracker(server.Uri);
        var online = tracker.StartRun("exp", "online", NoTags);
        Registry().Add(new ActiveRunRegistry.Entry("rest", tracker.Client.Options.BaseUri, online.RunId, online.ExperimentId, ((MlflowRestRun)online).LocalId, DeadPid, 0));

        server.Down();
        using (var offlineTracker = _kit.Tracker(server.Uri))
        {
            var pending = offlineTracker.StartRun("exp", "pending", NoTags);
            pending.LogMetric("m", 1);
            ((MlflowRestRun)pending).Flush();
            Registry().Add(new ActiveRunRegistry.Entry("rest", offlineTracker.Client.Options.BaseUri, pending.RunId, "", ((MlflowRestRun)pending).LocalId, DeadPid, 0));
        }
        server.Up();

        Assert.Equal(2, Registry().RecoverStale(tracker));
        Assert.Equal("KILLED", server.SingleRun("online").Status);
        Assert.Empty(Registry().List());
        Assert.Equal(0, new SpoolReplayer(tracker.Spool!, tracker.Client).Replay().Remaining);
        var pendingRun = server.SingleRun("pending");
        Assert.Equal("KILLED", pendingRun.Status);
        Assert.Single(pendingRun.Metrics);
    }
}
