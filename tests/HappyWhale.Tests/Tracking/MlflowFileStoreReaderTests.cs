using HappyWhale.Tracking;

namespace HappyWhale.Tests.Tracking;

public sealed class MlflowFileStoreReaderTests : IDisposable
{
    private readonly TempStore _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void ReadsBackRunsParamsTagsAndMetrics()
    {
        var store = new MlflowFileStore(_temp.Root);
        var a = store.StartRun("whales", "a", new Dictionary<string, string> { ["kind"] = "baseline" });
        a.LogParams(new Dictionary<string, string> { ["lr"] = "0.1", ["opt/name"] = "adam" });
        a.LogMetric("loss", 2.0, step: 0, timestampMs: 10);
        a.LogMetric("loss", 1.0, step: 1, timestampMs: 20);
        a.LogMetric("loss", 3.0, step: 1, timestampMs: 15); // older timestamp at the same step: not the latest
        a.LogMetric("acc", double.NaN, step: 0, timestampMs: 10);
        a.End(RunStatus.Failed);
        Thread.Sleep(5);
        var b = store.StartRun("whales", "b", new Dictionary<string, string>());

        var reader = new MlflowFileStoreReader(_temp.Root);
        Assert.Equal(["Default", "whales"], reader.ListExperiments().Select(e => e.Name));
        var runs = reader.ListRuns("whales");
        Assert.Equal([b.RunId, a.RunId], runs.Select(r => r.RunId)); // newest first
        var ra = runs[1];
        Assert.Equal("a", ra.RunName);
        Assert.Equal(RunStatus.Failed, ra.Status);
        Assert.NotNull(ra.EndTime);
        Assert.Equal(RunStatus.Running, runs[0].Status);
        Assert.Null(runs[0].EndTime);
        Assert.Empty(reader.ListRuns("no such experiment"));

        Assert.Equal(new Dictionary<string, string> { ["lr"] = "0.1", ["opt/name"] = "adam" }, reader.ReadParams(a.RunId));
        Assert.Equal("baseline", reader.ReadTags(a.RunId)["kind"]);

        var latest = reader.ReadLatestMetrics(a.RunId);
        Assert.Equal(1.0, latest["loss"]);
        Assert.True(double.IsNaN(latest["acc"]));

        Assert.Equal(
            [new MetricPoint(10, 2.0, 0), new MetricPoint(20, 1.0, 1), new MetricPoint(15, 3.0, 1)],
            reader.ReadMetricHistory(a.RunId, "loss"));
        Assert.Empty(reader.ReadMetricHistory(a.RunId, "never"));
        Assert.Equal(["acc", "loss"], reader.ReadMetricHistories(a.RunId).Keys);
        Assert.Throws<KeyNotFoundException>(() => reader.ReadParams(new string('0', 32)));
    }

    [Fact]
    public void ReadsPythonWrittenRun_WithTwoFieldMetricLinesAndNoRunName()
    {
        // A run as an older MLflow writes it: no run_name in meta.yaml, metric lines without a step.
        var root = _temp.Root;
        Directory.CreateDirectory(Path.Combine(root, "0"));
        File.WriteAllText(Path.Combine(root, "0", "meta.yaml"),
            "artifact_location: file:///x/0\nexperiment_id: '0'\nlifecycle_stage: active\nname: Default\n");
        var runId = "0123456789abcdef0123456789abcdef";
        var dir = Path.Combine(root, "0", runId);
        Directory.CreateDirectory(Path.Combine(dir, "metrics"));
        Directory.CreateDirectory(Path.Combine(dir, "tags"));
        File.WriteAllText(Path.Combine(dir, "meta.yaml"),
            $"artifact_uri: file:///x/0/{runId}/artifacts\nend_time: null\nexperiment_id: '0'\nlifecycle_stage: active\n" +
            $"run_id: {runId}\nrun_uuid: {runId}\nstart_time: 1\nstatus: 3\ntags: []\nuser_id: me\n");
        File.WriteAllText(Path.Combine(dir, "tags", "mlflow.runName"), "legacy");
        File.WriteAllText(Path.Combine(dir, "metrics", "m"), "5 inf\n6 -1e-05\n");

        var reader = new MlflowFileStoreReader(root);
        var run = Assert.Single(reader.ListRuns("Default"));
        Assert.Equal("legacy", run.RunName);
        Assert.Equal(RunStatus.Finished, run.Status);
        Assert.Equal([new MetricPoint(5, double.PositiveInfinity, 0), new MetricPoint(6, -1e-5, 0)], reader.ReadMetricHistory(runId, "m"));
    }
}
