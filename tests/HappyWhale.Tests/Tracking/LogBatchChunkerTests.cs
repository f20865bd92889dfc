using HappyWhale.Tracking;

namespace HappyWhale.Tests.Tracking;

public sealed class LogBatchChunkerTests
{
    private static List<MetricRecord> Metrics(int n) => Enumerable.Range(0, n).Select(i => new MetricRecord("m", i, 1000 + i, i)).ToList();
    private static List<KeyValuePair<string, string>> Pairs(string prefix, int n) => Enumerable.Range(0, n).Select(i => new KeyValuePair<string, string>($"{prefix}{i}", $"v{i}")).ToList();

    private static void AssertWithinLimits(IEnumerable<LogBatch> batches)
    {
        foreach (var b in batches)
        {
            Assert.InRange(b.Metrics.Count, 0, 1000);
            Assert.InRange(b.Params.Count, 0, 100);
            Assert.InRange(b.Tags.Count, 0, 100);
            Assert.InRange(b.Count, 1, 1000);
        }
    }

    [Fact]
    public void FiveThousandMetrics_FiveCalls()
    {
        var batches = LogBatchChunker.Chunk(Metrics(5000), [], []);
        Assert.Equal(5, batches.Count);
        AssertWithinLimits(batches);
        Assert.Equal(Metrics(5000), batches.SelectMany(b => b.Metrics));
    }

    [Fact]
    public void TwoHundredFiftyParams_ThreeCalls()
    {
        var batches = LogBatchChunker.Chunk([], Pairs("p", 250), []);
        Assert.Equal(3, batches.Count);
        AssertWithinLimits(batches);
        Assert.Equal(Pairs("p", 250), batches.SelectMany(b => b.Params));
    }

    [Fact]
    public void Mixed_RespectsEveryLimitAndKeepsOrder()
    {
        var batches = LogBatchChunker.Chunk(Metrics(2500), Pairs("p", 150), Pairs("t", 230));
        AssertWithinLimits(batches);
        Assert.Equal(Metrics(2500), batches.SelectMany(b => b.Metrics));
        Assert.Equal(Pairs("p", 150), batches.SelectMany(b => b.Params));
        Assert.Equal(Pairs("t", 230), batches.SelectMany(b => b.Tags));
        // 100 p + 100 t + 800 m, 50 p + 100 t + 850 m, 30 t + 850 m: the 1000-entity cap binds, not the metric cap.
        Assert.Equal(3, batches.Count);
        Assert.Empty(LogBatchChunker.Chunk([], [], []));
    }

    [Fact]
    public void NonFiniteMetricValues_UseProtobufJsonStrings()
    {
        var json = new LogBatch([new("a", double.NaN, 1, 0), new("b", double.PositiveInfinity, 1, 0), new("c", 0.25, 1, 0)], [], []).ToJson();
        Assert.Equal("NaN", (string)json["metrics"]![0]!["value"]!);
        Assert.Equal("Infinity", (string)json["metrics"]![1]!["value"]!);
        Assert.Equal(0.25, (double)json["metrics"]![2]!["value"]!);
        Assert.True(double.IsNaN(LogBatch.ParseValue(json["metrics"]![0]!["value"]!)));
    }

    [Fact]
    public void ArtifactUrl_FollowsTheServersProxyLayout()
    {
        using var client = new MlflowRestClient(MlflowRestOptions.FromVariables("http://h:5000/", _ => null));
        Assert.Equal("http://h:5000/api/2.0/mlflow-artifacts/artifacts/3/abc/artifacts/eval/m%20x.json",
            client.ArtifactUrl("mlflow-artifacts:/3/abc/artifacts", "eval/m x.json"));
        Assert.Equal("http://h:5000/api/2.0/mlflow-artifacts/artifacts/3/abc/artifacts/f",
            client.ArtifactUrl("mlflow-artifacts://h:5000/3/abc/artifacts", "f"));
    }
}
