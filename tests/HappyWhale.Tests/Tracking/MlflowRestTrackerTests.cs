using System.Text.Json.Nodes;
using HappyWhale.Tracking;

namespace HappyWhale.Tests.Tracking;

public sealed class MlflowRestTrackerTests : IDisposable
{
    private readonly RestTestKit _kit = new();
    private static readonly Dictionary<string, string> NoTags = new();

    public void Dispose() => _kit.Dispose();

    private static void LogMany(ITrackedRun run, int points)
    {
        for (int i = 0; i < points; i++) run.LogMetric("loss", 1.0 / (i + 1), i, 1_000_000 + i);
    }

    [Fact]
    public void FiveThousandMetricPoints_AtMostSixLogBatchCalls()
    {
        using var server = new FakeMlflowServer();
        using var tracker = _kit.Tracker(server.Uri);
        var run = tracker.StartRun("exp", "r1", NoTags);
        LogMany(run, 5000);
        run.End(RunStatus.Finished);

        Assert.InRange(server.CallCount("runs/log-batch"), 1, 6);
        var r = server.SingleRun();
        Assert.Equal(5000, r.Metrics.Count);
        Assert.Equal(Enumerable.Range(0, 5000).Select(i => (long)i), r.Metrics.Select(m => m.Step));
        Assert.Equal("FINISHED", r.Status);
        Assert.NotNull(r.EndTime);
        Assert.Equal("r1", r.Tags[MlflowTags.RunName]);
        Assert.Equal(((MlflowRestRun)run).LocalId, r.Tags[MlflowRestTracker.ClientRunIdTag]);
        Assert.Equal(r.Id, run.RunId);
        Assert.Equal("1", run.ExperimentId);
        Assert.False(Directory.Exists(_kit.SpoolRoot) && Directory.EnumerateFiles(_kit.SpoolRoot, "spool.jsonl", SearchOption.AllDirectories).Any());
    }

    [Fact]
    public void TwoHundredFiftyParams_ThreeCalls_LongValueTruncatedNotRejected()
    {
        using var server = new FakeMlflowServer();
        using var tracker = _kit.Tracker(server.Uri);
        var run = tracker.StartRun("exp", "r1", NoTags);
        var ps = Enumerable.Range(0, 250).ToDictionary(i => $"p{i:000}", i => i.ToString());
        ps["p000"] = new string('x', 10_000);
        run.LogParams(ps);
        run.LogParams(new Dictionary<string, string> { ["p001"] = "1" }); // same value again: fine
        Assert.Throws<ArgumentException>(() => run.LogParams(new Dictionary<string, string> { ["p001"] = "changed" }));
        run.End(RunStatus.Finished);

        Assert.Equal(3, server.CallCount("runs/log-batch"));
        var r = server.SingleRun();
        Assert.Equal(250, r.Params.Count);
        Assert.Equal(MlflowNames.MaxParamValueLength, r.Params["p000"].Length);
        Assert.EndsWith(MlflowRestTracker.TruncationMarker, r.Params["p000"]);
    }

    [Fact]
    public void ChildRuns_CarryParentRunId_ExperimentReused_SetTagAndArtifact()
    {
        using var server = new FakeMlflowServer();
        using var tracker = _kit.Tracker(server.Uri);
        var parent = tracker.StartRun("ablation", "parent", NoTags);
        var child = tracker.StartRun("ablation", "child", new Dictionary<string, string> { ["variant"] = "a" }, parent.RunId);
        child.SetTag("note", "hello");
        var file = Path.Combine(_kit.Temp.Folder, "metrics.json");
        File.WriteAllText(file, "{\"map5\": 0.5}");
        child.LogArtifact(file, "eval");
        child.End(RunStatus.Finished);
        parent.End(RunStatus.Finished);

        Assert.Single(server.Experiments);
        Assert.Equal(1, server.CallCount("experiments/create"));
        var c = server.SingleRun("child");
        Assert.Equal(parent.RunId, c.Tags[MlflowTags.ParentRunId]);
        Assert.Equal("hello", c.Tags["note"]);
        Assert.Equal("a", c.Tags["variant"]);
        Assert.Equal("{\"map5\": 0.5}", System.Text.Encoding.UTF8.GetString(server.Artifacts[$"{c.ExperimentId}/{c.Id}/artifacts/eval/metrics.json"]));
    }

    [Fact]
    public void ExperimentCreatedConcurrently_IsNotAnError()
    {
        using var server = new FakeMlflowServer();
        server.Experiments["exp"] = "7";
        server.MissOnceOnGetByName = true;
        using var tracker = _kit.Tracker(server.Uri);
        var run = tracker.StartRun("exp", "r", NoTags);
        Assert.Equal("7", run.ExperimentId);
        Assert.Equal(2, server.CallCount("experiments/get-by-name"));
    }

    [Fact]
    public void Transient503_IsRetried_NothingSpooled()
    {
        using var server = new FakeMlflowServer();
        using var tracker = _kit.Tracker(server.Uri);
        var run = tracker.StartRun("exp", "r", NoTags);
        server.Fail503Next = 2;
        LogMany(run, 10);
        run.End(RunStatus.Finished);
        Assert.False(tracker.IsOffline);
        Assert.Equal(10, server.SingleRun().Metrics.Count);
        Assert.Equal("FINISHED", server.SingleRun().Status);
    }

    [Fact]
    public void AnsweredWith503AfterApplying_LiveLogBatchIsNotDuplicated()
    {
        using var server = new FakeMlflowServer();
        using var tracker = _kit.Tracker(server.Uri);
        var run = tracker.StartRun("exp", "r", NoTags);
        server.ApplyThenFailFrom = server.RequestCount + 1; // the log-batch is applied, its answer lost...
        LogMany(run, 1000);                                  // (flushes the full buffer now)
        server.ApplyThenFailFrom = null;                     // ...then the server is fine again
        run.End(RunStatus.Finished);
        Assert.Equal(1000, server.SingleRun().Metrics.Count);
    }

    [Fact]
    public void ServerDown_RecordsSpool_ExperimentContinues_ReplayExactlyOnce()
    {
        using var server = new FakeMlflowServer(start: false); // connection refused
        using (var tracker = _kit.Tracker(server.Uri))
        {
            var parent = tracker.StartRun("exp", "parent", NoTags);
            var run = tracker.StartRun("exp", "child", new Dictionary<string, string> { ["k"] = "v" }, parent.RunId);
            run.LogParams(Enumerable.Range(0, 150).ToDictionary(i => $"p{i}", i => $"{i}"));
            LogMany(run, 2500);
            run.SetTag("t", "1");
            var file = Path.Combine(_kit.Temp.Folder, "a.txt");
            File.WriteAllText(file, "artifact");
            run.LogArtifact(file);
            File.WriteAllText(file, "changed later"); // the spool kept its own copy
            run.End(RunStatus.Finished);
            parent.End(RunStatus.Failed);
            Assert.True(tracker.IsOffline);
            Assert.Equal(run.RunId, ((MlflowRestRun)run).LocalId);
            Assert.True(tracker.Spool!.PendingCount() > 0);
        }
        Assert.Contains(_kit.Log, l => l.Contains("unreachable"));

        server.Up();
        var result = _kit.Replay(server.Uri);
        Assert.Null(result.StoppedBecause);
        Assert.Equal(0, result.Remaining);
        Assert.Equal(0, result.Rejected);

        var child = server.SingleRun("child");
        var parentRun = server.SingleRun("parent");
        Assert.Equal(parentRun.Id, child.Tags[MlflowTags.ParentRunId]);
        Assert.Equal(2500, child.Metrics.Count);
        Assert.Equal(150, child.Params.Count);
        Assert.Equal("1", child.Tags["t"]);
        Assert.Equal("v", child.Tags["k"]);
        Assert.Equal("FINISHED", child.Status);
        Assert.Equal("FAILED", parentRun.Status);
        Assert.Equal("artifact", System.Text.Encoding.UTF8.GetString(server.Artifacts[$"{child.ExperimentId}/{child.Id}/artifacts/a.txt"]));

        // A second replay has nothing to send.
        int before = server.RequestCount;
        Assert.Equal(0, _kit.Replay(server.Uri).Replayed);
        Assert.Equal(before, server.RequestCount);
        Assert.Equal(2500, child.Metrics.Count);
    }

    [Fact]
    public void ServerAnswering503_ThenRecovering_SameAsDown()
    {
        using var server = new FakeMlflowServer();
        server.FailFrom = 1;
        using (var tracker = _kit.Tracker(server.Uri))
        {
            var run = tracker.StartRun("exp", "r", NoTags);
            LogMany(run, 1200);
            run.End(RunStatus.Finished);
        }
        server.FailFrom = null;
        Assert.Equal(0, _kit.Replay(server.Uri).Remaining);
        Assert.Equal(1200, server.SingleRun().Metrics.Count);
        Assert.Equal("FINISHED", server.SingleRun().Status);
    }

    [Fact]
    public void OnlineRun_ThatLosesTheServer_SpoolsTheRestInOrder()
    {
        using var server = new FakeMlflowServer();
        using (var tracker = _kit.Tracker(server.Uri))
        {
            var run = tracker.StartRun("exp", "r", NoTags);
            LogMany(run, 1000); // sent live
            server.FailFrom = server.RequestCount + 1;
            for (int i = 1000; i < 1500; i++) run.LogMetric("loss", i, i, 1_000_000 + i);
            run.End(RunStatus.Finished);
        }
        Assert.Equal("RUNNING", server.SingleRun().Status);
        server.FailFrom = null;
        Assert.Equal(0, _kit.Replay(server.Uri).Remaining);
        Assert.Equal(1500, server.SingleRun().Metrics.Count);
        Assert.Equal("FINISHED", server.SingleRun().Status);
    }

    /// <summary>
    /// The replay is cut at every possible request (the server fails from request N on: refused answers, or
    /// applied-then-503 answers), then restarted against a healthy server: every metric point lands exactly once.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void InterruptedReplay_RestartedAnywhere_SendsEachPointExactlyOnce(bool appliedBeforeFailing)
    {
        for (int cut = 1; cut <= 12; cut++)
        {
            using var kit = new RestTestKit();
            using var server = new FakeMlflowServer(start: false);
            using (var tracker = kit.Tracker(server.Uri))
            {
                var run = tracker.StartRun("exp", "r", NoTags);
                run.LogParams(Enumerable.Range(0, 120).ToDictionary(i => $"p{i}", i => $"{i}"));
                for (int i = 0; i < 3500; i++) run.LogMetric("loss", i, i, 5_000 + i);
                run.End(RunStatus.Finished);
            }
            server.Up();
            if (appliedBeforeFailing) server.ApplyThenFailFrom = cut; else server.FailFrom = cut;
            var first = kit.Replay(server.Uri);
            // An uninterrupted replay takes 8 requests (get-by-name, experiments/create, runs/create, 4 log-batch, update).
            if (cut <= 8) Assert.True(first.StoppedBecause is not null && first.Remaining > 0, $"cut {cut}: {first}");
            server.ApplyThenFailFrom = server.FailFrom = null;
            var second = kit.Replay(server.Uri);
            Assert.True(second.Remaining == 0, $"cut {cut}: {second}");
            var r = server.SingleRun();
            Assert.True(r.Metrics.Count == 3500, $"cut {cut} ({first}): {r.Metrics.Count} points");
            Assert.Equal(Enumerable.Range(0, 3500).Select(i => (long)i), r.Metrics.Select(m => m.Step));
            Assert.Equal(120, r.Params.Count);
            Assert.Equal("FINISHED", r.Status);
        }
    }

    [Fact]
    public void TornLastLine_IsSkipped_AndLaterRecordsStillReplay()
    {
        using var server = new FakeMlflowServer(start: false);
        string spoolFile;
        using (var tracker = _kit.Tracker(server.Uri))
        {
            var run = tracker.StartRun("exp", "r", NoTags);
            run.LogMetric("a", 1, 0, 10);
            ((MlflowRestRun)run).Flush();
            spoolFile = tracker.Spool!.SpoolFile;
            File.AppendAllText(spoolFile, "{\"id\":\"torn"); // a crash mid-append
            run.End(RunStatus.Finished);
        }
        server.Up();
        var result = _kit.Replay(server.Uri);
        Assert.Equal(0, result.Remaining);
        Assert.Equal(1, result.Skipped);
        Assert.Single(server.SingleRun().Metrics);
        Assert.Equal("FINISHED", server.SingleRun().Status);
    }

    [Fact]
    public void NonFiniteMetricValues_UseProtobufJsonStrings()
    {
        var json = new LogBatch([new("a", double.NaN, 1, 0), new("b", double.PositiveInfinity, 1, 0), new("c", 0.25, 1, 0)], [], []).ToJson();
        Assert.Equal("NaN", (string)json["metrics"]![0]!["value"]!);
        Assert.Equal("Infinity", (string)json["metrics"]![1]!["value"]!);
        Assert.Equal(0.25, (double)json["metrics"]![2]!["value"]!);
        Assert.True(double.IsNaN(LogBatch.FromJson(JsonNode.Parse(json.ToJsonString())!.AsObject()).Metrics[0].Value));
    }

    [Fact]
    public void ArtifactUrl_FollowsTheServersProxyLayout()
    {
        using var client = new MlflowRestClient(_kit.Options("http://h:5000/"));
        Assert.Equal("http://h:5000/api/2.0/mlflow-artifacts/artifacts/3/abc/artifacts/eval/m%20x.json",
            client.ArtifactUrl("mlflow-artifacts:/3/abc/artifacts", "eval/m x.json"));
        Assert.Equal("http://h:5000/api/2.0/mlflow-artifacts/artifacts/3/abc/artifacts/f",
            client.ArtifactUrl("mlflow-artifacts://h:5000/3/abc/artifacts", "f"));
        Assert.Equal("http://h:5000/api/2.0/mlflow-artifacts/artifacts/3/abc/artifacts/f",
            client.ArtifactUrl(MlflowRestClient.DefaultArtifactRoot("3", "abc"), "f"));
    }
}
