using HappyWhale.Tracking;

namespace HappyWhale.Tests.Tracking;

/// <summary>The push of journal runs to a server (a fake one here, with failures injected at every request).</summary>
public sealed class RunPusherTests : IDisposable
{
    private readonly RestTestKit _kit = new();
    private static readonly Dictionary<string, string> NoTags = new();

    public void Dispose() => _kit.Dispose();

    private MlflowFileStore Journal() => new(_kit.JournalRoot);

    private static void LogMany(MlflowFileRun run, int points, int from = 0)
    {
        for (int i = from; i < from + points; i++) run.LogMetric("loss", 1.0 / (i + 1), i, 1_000_000 + i);
    }

    [Fact]
    public void Push_SendsEveryRecordInFewCalls_ParentFirst_AndASecondPushSendsNothing()
    {
        using var server = new FakeMlflowServer();
        var pusher = _kit.Pusher(server.Uri);
        var journal = Journal();
        var parent = journal.StartRun("ablation", "parent", NoTags);
        var child = journal.StartRun("ablation", "child", new Dictionary<string, string> { ["variant"] = "a" }, parent.RunId);
        pusher.Track(child.RunId); // tracked before its parent: the parent still goes first
        pusher.Track(parent.RunId);
        child.LogParams(Enumerable.Range(0, 250).ToDictionary(i => $"p{i:000}", i => i.ToString()));
        LogMany(child, 5000);
        child.SetTag("note", "hello");
        var file = Path.Combine(_kit.Temp.Folder, "metrics.json");
        File.WriteAllText(file, "{\"map5\": 0.5}");
        child.LogArtifact(file, "eval");
        child.End(RunStatus.Finished);
        parent.End(RunStatus.Failed);

        var result = pusher.PushAll(TimeSpan.FromSeconds(10));

        Assert.Equal(2, result.Runs);
        Assert.Equal(0, result.Pending);
        Assert.InRange(server.CallCount("runs/log-batch"), 6, 6); // 5000 points + 250 params: 6 calls of at most 1000
        var c = server.SingleRun("child");
        var p = server.SingleRun("parent");
        Assert.Equal(Enumerable.Range(0, 5000).Select(i => (long)i), c.Metrics.Select(m => m.Step));
        Assert.Equal(Enumerable.Range(0, 5000).Select(i => 1.0 / (i + 1)), c.Metrics.Select(m => m.Value));
        Assert.Equal(250, c.Params.Count);
        Assert.Equal(p.Id, c.Tags[MlflowTags.ParentRunId]);
        Assert.Equal(child.RunId, c.Tags[RunPusher.ClientRunIdTag]);
        Assert.Equal("hello", c.Tags["note"]);
        Assert.Equal("a", c.Tags["variant"]);
        Assert.Equal("{\"map5\": 0.5}", System.Text.Encoding.UTF8.GetString(server.Artifacts[$"{c.ExperimentId}/{c.Id}/artifacts/eval/metrics.json"]));
        Assert.Equal(("FINISHED", "FAILED"), (c.Status, p.Status));
        var journaled = new MlflowFileStoreReader(_kit.JournalRoot).FindRun(child.RunId)!;
        Assert.Equal((journaled.StartTime, journaled.EndTime), (c.StartTime, c.EndTime));

        int before = server.RequestCount;
        Assert.Equal(new PushResult(0, 0, 0, 0), pusher.PushAll(TimeSpan.FromSeconds(10)));
        Assert.Equal(before, server.RequestCount);
    }

    [Fact]
    public void Push_SendsOnlyWhatTheJournalGainedSince_AndAHalfWrittenLineWaitsForItsNewline()
    {
        using var server = new FakeMlflowServer();
        var pusher = _kit.Pusher(server.Uri);
        var run = Journal().StartRun("exp", "r", NoTags);
        pusher.Track(run.RunId);
        LogMany(run, 3);
        pusher.PushAll(TimeSpan.FromSeconds(10));
        Assert.Equal(3, server.SingleRun().Metrics.Count);
        Assert.Equal("RUNNING", server.SingleRun().Status);

        LogMany(run, 2, from: 3);
        var lossFile = Path.Combine(new MlflowFileStoreReader(_kit.JournalRoot).FindRun(run.RunId)!.Directory, "metrics", "loss");
        File.AppendAllText(lossFile, "1000005 0.5"); // a writer between its bytes and its newline
        run.SetTag("stage", "train");
        int batches = server.CallCount("runs/log-batch");
        pusher.PushAll(TimeSpan.FromSeconds(10));
        Assert.Equal(batches + 1, server.CallCount("runs/log-batch"));
        Assert.Equal([0L, 1, 2, 3, 4], server.SingleRun().Metrics.Select(m => m.Step));
        Assert.Equal("train", server.SingleRun().Tags["stage"]);

        File.AppendAllText(lossFile, " 5\n");
        run.End(RunStatus.Finished);
        var last = pusher.PushAll(TimeSpan.FromSeconds(10));
        Assert.Equal(2, last.Records); // the completed line and the status
        Assert.Equal([0L, 1, 2, 3, 4, 5], server.SingleRun().Metrics.Select(m => m.Step));
        Assert.Equal("FINISHED", server.SingleRun().Status);
    }

    /// <summary>
    /// The push is cut at every request it makes (the server refuses from request N on, or applies the request and then
    /// answers 503), then pushed again to a healthy server: one run, every metric point exactly once, in order.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PushCutAtAnyRequest_ThenPushedAgain_SendsEachRecordExactlyOnce(bool appliedBeforeFailing)
    {
        // Uncut, the push takes 9 requests: get-by-name, experiments/create, runs/create, 4 log-batch, the artifact, runs/update.
        for (int cut = 1; cut <= 10; cut++)
        {
            using var kit = new RestTestKit();
            using var server = new FakeMlflowServer();
            var pusher = kit.Pusher(server.Uri);
            var run = new MlflowFileStore(kit.JournalRoot).StartRun("exp", "r", NoTags);
            pusher.Track(run.RunId);
            run.LogParams(Enumerable.Range(0, 120).ToDictionary(i => $"p{i}", i => $"{i}"));
            for (int i = 0; i < 3500; i++) run.LogMetric("loss", i, i, 5_000 + i);
            var file = Path.Combine(kit.Temp.Folder, "a.txt");
            File.WriteAllText(file, "artifact");
            run.LogArtifact(file);
            run.End(RunStatus.Finished);

            if (appliedBeforeFailing) server.ApplyThenFailFrom = cut; else server.FailFrom = cut;
            var first = Record.Exception(() => pusher.PushAll(TimeSpan.FromSeconds(10)));
            if (cut <= 9) Assert.True(first is MlflowRestException, $"cut {cut}: {first}");
            server.ApplyThenFailFrom = server.FailFrom = null;
            var second = pusher.PushAll(TimeSpan.FromSeconds(10));

            Assert.True(second.Pending == 0, $"cut {cut}: {second}");
            var r = server.SingleRun();
            Assert.True(r.Metrics.Count == 3500, $"cut {cut}: {r.Metrics.Count} points");
            Assert.Equal(Enumerable.Range(0, 3500).Select(i => (long)i), r.Metrics.Select(m => m.Step));
            Assert.Equal(120, r.Params.Count);
            Assert.Equal("FINISHED", r.Status);
            Assert.Equal("artifact", System.Text.Encoding.UTF8.GetString(server.Artifacts.Values.Single()));
            Assert.Equal(0, pusher.PushAll(TimeSpan.FromSeconds(10)).Requests);
        }
    }

    [Fact]
    public void ServerLostDuringARun_TheRunGoesOn_ThenOneSyncSendsTheRestOnce()
    {
        using var server = new FakeMlflowServer();
        string runId;
        using (var session = _kit.Session(server.Uri))
        {
            var run = session.StartRun("exp", "r", NoTags);
            runId = run.RunId;
            for (int i = 0; i < 3; i++) run.LogMetric("loss", i, i);
            WaitFor(() => server.MetricCount() == 3);
            server.Down();
            for (int i = 3; i < 6; i++) run.LogMetric("loss", i, i);
            run.End(RunStatus.Finished);
        }
        Assert.Contains(_kit.Log, l => l.Contains("the run goes on"));
        Assert.Contains(_kit.Log, l => l.Contains("1 run(s) not yet complete"));
        Assert.Equal("RUNNING", server.SingleRun().Status);

        server.Up();
        var sync = TrackingSession.Sync(server.Uri, _kit.Repo, _kit.Log.Add, _kit.Env());
        Assert.Null(sync.StoppedBecause);
        Assert.Equal(4, sync.Push.Records); // three points and the status
        Assert.Equal([0L, 1, 2, 3, 4, 5], server.SingleRun().Metrics.Select(m => m.Step));
        Assert.Equal("FINISHED", server.SingleRun().Status);
        Assert.Equal(runId, server.SingleRun().Tags[RunPusher.ClientRunIdTag]);
        Assert.Equal(0, TrackingSession.Sync(server.Uri, _kit.Repo, _kit.Log.Add, _kit.Env()).Push.Requests);
    }

    [Fact]
    public void ASlowServer_NeverHoldsUpTheRun()
    {
        using var server = new FakeMlflowServer { Delay = TimeSpan.FromSeconds(2) };
        using var session = _kit.Session(server.Uri);
        var run = session.StartRun("exp", "r", NoTags);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < 200; i++) run.LogMetric("loss", i, i);
        run.SetTag("t", "v");
        // Every request takes 2 s here; the run's own writes (journal lines and wake-ups) do not wait for any of them.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1.5), $"200 metrics took {clock.Elapsed}");
        server.Delay = TimeSpan.Zero;
        run.End(RunStatus.Finished);
    }

    internal static void WaitFor(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting");
            Thread.Sleep(20);
        }
    }
}
