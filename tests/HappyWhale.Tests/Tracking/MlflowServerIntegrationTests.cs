using System.Text.Json.Nodes;
using HappyWhale.Tracking;

namespace HappyWhale.Tests.Tracking;

/// <summary>A fact that runs only when MLFLOW_TEST_TRACKING_URI names a real MLflow server, and reports itself skipped otherwise.</summary>
public sealed class MlflowServerFactAttribute : FactAttribute
{
    public const string Variable = "MLFLOW_TEST_TRACKING_URI";

    public MlflowServerFactAttribute()
    {
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(Variable)))
            Skip = $"{Variable} is not set (point it at a running `mlflow server` with artifact serving on to run this).";
    }
}

/// <summary>Against a real MLflow server: everything logged reads back through the REST API.</summary>
public sealed class MlflowServerIntegrationTests : IDisposable
{
    private readonly RestTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    private MlflowRestTracker Tracker() => new(MlflowRestOptions.FromEnvironment(Environment.GetEnvironmentVariable(MlflowServerFactAttribute.Variable)!, _kit.SpoolRoot) with
    {
        MaxRetries = 2,
        Log = m => _kit.Log.Add(m),
    });

    [MlflowServerFact]
    public void CreateLogAndReadBack_EveryStepParamAndArtifact()
    {
        using var tracker = Tracker();
        var experiment = "happywhale-it-" + Guid.NewGuid().ToString("N")[..8];
        var parent = tracker.StartRun(experiment, "parent", new Dictionary<string, string>());
        var run = tracker.StartRun(experiment, "child", new Dictionary<string, string> { ["variant"] = "a" }, parent.RunId);
        var ps = Enumerable.Range(0, 130).ToDictionary(i => $"p{i:000}", i => $"value {i}");
        ps["long"] = new string('y', 7000);
        run.LogParams(ps);
        for (int i = 0; i < 2100; i++) run.LogMetric("loss", 1.0 / (i + 1), i, 1_700_000_000_000 + i);
        run.LogMetric("final/map5", 0.625);
        var file = Path.Combine(_kit.Temp.Folder, "metrics.json");
        File.WriteAllText(file, "{\"map5\": 0.625}");
        run.LogArtifact(file, "eval");
        run.SetTag("note", "integration");
        run.End(RunStatus.Finished);
        parent.End(RunStatus.Finished);
        Assert.False(tracker.IsOffline, string.Join("\n", _kit.Log));

        var got = tracker.Client.GetRun(run.RunId);
        Assert.Equal("FINISHED", (string?)got["info"]!["status"]);
        var serverParams = LogBatch.ReadPairs(got["data"]!["params"] as JsonArray).ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal(131, serverParams.Count);
        foreach (var (k, v) in ps.Where(p => p.Key != "long")) Assert.Equal(v, serverParams[k]);
        Assert.EndsWith(MlflowRestTracker.TruncationMarker, serverParams["long"]);
        var tags = LogBatch.ReadPairs(got["data"]!["tags"] as JsonArray).ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal(parent.RunId, tags[MlflowTags.ParentRunId]);
        Assert.Equal("integration", tags["note"]);

        var history = tracker.Client.GetMetricHistory(run.RunId, "loss").OrderBy(m => m.Step).ToList();
        Assert.Equal(2100, history.Count);
        for (int i = 0; i < 2100; i++)
        {
            Assert.Equal(i, history[i].Step);
            Assert.Equal(1.0 / (i + 1), history[i].Value, 12);
            Assert.Equal(1_700_000_000_000 + i, history[i].TimestampMs);
        }
        Assert.Equal(0.625, Assert.Single(tracker.Client.GetMetricHistory(run.RunId, "final/map5")).Value);

        var artifactUri = (string)got["info"]!["artifact_uri"]!;
        var bytes = tracker.Client.GetArtifact(artifactUri, "eval/metrics.json");
        Assert.Equal("{\"map5\": 0.625}", System.Text.Encoding.UTF8.GetString(bytes));
    }

    [MlflowServerFact]
    public void SpooledRun_ReplaysToTheRealServer()
    {
        var uri = Environment.GetEnvironmentVariable(MlflowServerFactAttribute.Variable)!;
        // Spool through a port nothing listens on, then replay into the real server's spool folder name.
        var offline = MlflowRestOptions.FromEnvironment("http://127.0.0.1:9", _kit.SpoolRoot) with
        {
            MaxRetries = 0,
            SpoolDirectory = Path.Combine(_kit.SpoolRoot, MlflowRestOptions.SpoolFolderName(CredentialScrubber.StripUserInfo(uri).TrimEnd('/'))),
            Log = m => _kit.Log.Add(m),
        };
        var experiment = "happywhale-it-" + Guid.NewGuid().ToString("N")[..8];
        string localId;
        using (var down = new MlflowRestTracker(offline))
        {
            var run = down.StartRun(experiment, "spooled", new Dictionary<string, string>());
            localId = ((MlflowRestRun)run).LocalId;
            for (int i = 0; i < 1500; i++) run.LogMetric("loss", i, i, 1_700_000_000_000 + i);
            run.End(RunStatus.Finished);
        }
        using var tracker = Tracker();
        var result = new SpoolReplayer(tracker.Spool!, tracker.Client).Replay();
        Assert.Equal(0, result.Remaining);
        var serverRunId = tracker.Spool!.ReadRunMap()[localId].RunId;
        Assert.Equal(1500, tracker.Client.GetMetricHistory(serverRunId, "loss").Count);
        Assert.Equal("FINISHED", (string?)tracker.Client.GetRun(serverRunId)["info"]!["status"]);
    }
}
