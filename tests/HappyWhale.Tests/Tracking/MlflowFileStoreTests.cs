using System.Text.RegularExpressions;
using HappyWhale.Tracking;

namespace HappyWhale.Tests.Tracking;

public sealed class MlflowFileStoreTests : IDisposable
{
    private static readonly Dictionary<string, string> NoTags = new();
    private readonly TempStore _temp = new();

    public void Dispose() => _temp.Dispose();

    private static string[] Lines(string path) => File.ReadAllText(path).Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void FreshStore_HasDefaultExperimentAndTrash()
    {
        _ = new MlflowFileStore(_temp.Root);

        Assert.True(Directory.Exists(Path.Combine(_temp.Root, ".trash")));
        var lines = Lines(Path.Combine(_temp.Root, "0", "meta.yaml"));
        Assert.Equal(6, lines.Length);
        Assert.Equal("artifact_location: " + new Uri(_temp.Root).AbsoluteUri + "/0", lines[0]);
        Assert.Matches(@"^creation_time: \d{13}$", lines[1]);
        Assert.Equal("experiment_id: '0'", lines[2]);
        Assert.Matches(@"^last_update_time: \d{13}$", lines[3]);
        Assert.Equal("lifecycle_stage: active", lines[4]);
        Assert.Equal("name: Default", lines[5]);
    }

    [Fact]
    public void ExistingRoot_IsNotGivenADefaultExperiment()
    {
        // MLflow only creates experiment 0 when the root folder itself is new.
        Directory.CreateDirectory(_temp.Root);
        _ = new MlflowFileStore(_temp.Root);
        Assert.False(Directory.Exists(Path.Combine(_temp.Root, "0")));
    }

    [Fact]
    public void Experiment_IsCreatedOnceAndReusedByName()
    {
        var store = new MlflowFileStore(_temp.Root);
        var a = store.StartRun("whales", "a", NoTags);
        var b = store.StartRun("whales", "b", NoTags);
        var c = new MlflowFileStore(_temp.Root).StartRun("dolphins", "c", NoTags);

        Assert.Equal("1", a.ExperimentId);
        Assert.Equal("1", b.ExperimentId);
        Assert.Equal("2", c.ExperimentId);
        var meta = File.ReadAllText(Path.Combine(_temp.Root, "1", "meta.yaml"));
        Assert.Contains("experiment_id: '1'\n", meta);
        Assert.Contains("name: whales\n", meta);
        Assert.Contains("artifact_location: file://" + _temp.Root + "/1\n", meta);
    }

    [Fact]
    public void RunMeta_HasMlflowFieldsAndIntegerStatus_BeforeAndAfterEnd()
    {
        var store = new MlflowFileStore(_temp.Root);
        var run = store.StartRun("whales", "baseline", new Dictionary<string, string> { ["mlflow.user"] = "tester" });
        Assert.Matches("^[0-9a-f]{32}$", run.RunId);
        var metaPath = Path.Combine(_temp.Root, run.ExperimentId, run.RunId, "meta.yaml");

        var before = Lines(metaPath);
        Assert.Equal(
        [
            $"artifact_uri: file://{_temp.Root}/1/{run.RunId}/artifacts",
            "deleted_time: null",
            "end_time: null",
            "entry_point_name: ''",
            "experiment_id: '1'",
            "lifecycle_stage: active",
            $"run_id: {run.RunId}",
            "run_name: baseline",
            $"run_uuid: {run.RunId}",
            "source_name: ''",
            "source_type: 4",
            "source_version: ''",
            before[12],
            "status: 1",
            "tags: []",
            "user_id: tester",
        ], before);
        Assert.Matches(@"^start_time: \d{13}$", before[12]);

        run.End(RunStatus.Finished);
        var after = Lines(metaPath);
        Assert.Contains("status: 3", after);
        Assert.Contains(after, l => Regex.IsMatch(l, @"^end_time: \d{13}$"));
        Assert.DoesNotContain(after, l => l.StartsWith("deleted_time", StringComparison.Ordinal));
        Assert.Contains(before[12], after);

        run.End(RunStatus.Killed);
        Assert.Contains("status: 5", Lines(metaPath));
    }

    [Fact]
    public void Run_HasStandardTagsAndFolders()
    {
        var store = new MlflowFileStore(_temp.Root);
        var run = store.StartRun("whales", "baseline", new Dictionary<string, string> { ["mlflow.source.git.commit"] = "abc123", ["team"] = "ml" });
        var dir = Path.Combine(_temp.Root, run.ExperimentId, run.RunId);
        foreach (var sub in new[] { "metrics", "params", "tags", "artifacts" })
            Assert.True(Directory.Exists(Path.Combine(dir, sub)), sub);

        string Tag(string key) => File.ReadAllText(Path.Combine(dir, "tags", key));
        Assert.Equal("baseline", Tag("mlflow.runName"));
        Assert.Equal("LOCAL", Tag("mlflow.source.type"));
        Assert.Equal("abc123", Tag("mlflow.source.git.commit"));
        Assert.Equal(Environment.UserName, Tag("mlflow.user"));
        Assert.False(string.IsNullOrEmpty(Tag("mlflow.source.name")));
        Assert.Equal("ml", Tag("team"));
        Assert.False(File.Exists(Path.Combine(dir, "tags", "mlflow.parentRunId")));
    }

    [Fact]
    public void ChildRun_CarriesParentRunIdTag()
    {
        var store = new MlflowFileStore(_temp.Root);
        var parent = store.StartRun("ablation", "parent", NoTags);
        var child = store.StartRun("ablation", "variant-a", NoTags, parentRunId: parent.RunId);

        var tags = new MlflowFileStoreReader(_temp.Root).ReadTags(child.RunId);
        Assert.Equal(parent.RunId, tags["mlflow.parentRunId"]);
        Assert.Equal(parent.ExperimentId, child.ExperimentId);
    }

    [Fact]
    public void Metrics_AppendTimestampValueStepLines_WithNestedKeys()
    {
        var run = new MlflowFileStore(_temp.Root).StartRun("whales", "m", NoTags);
        run.LogMetric("loss", 0.5, step: 0, timestampMs: 1700000000000);
        run.LogMetric("loss", 0.25, step: 1, timestampMs: 1700000000100);
        run.LogMetric("loss", 1, step: 2, timestampMs: 1700000000200);
        run.LogMetric("val/map5", 1e-5, step: 3, timestampMs: 1700000000300);

        var dir = Path.Combine(_temp.Root, run.ExperimentId, run.RunId, "metrics");
        Assert.Equal("1700000000000 0.5 0\n1700000000100 0.25 1\n1700000000200 1.0 2\n", File.ReadAllText(Path.Combine(dir, "loss")));
        Assert.Equal("1700000000300 1e-05 3\n", File.ReadAllText(Path.Combine(dir, "val", "map5")));
    }

    [Fact]
    public void ParamsAndTags_AreFilesWithTheValueAndNoNewline()
    {
        var run = new MlflowFileStore(_temp.Root).StartRun("whales", "p", NoTags);
        run.LogParams(new Dictionary<string, string> { ["lr"] = "0.001", ["model/backbone"] = "resnet50" });
        run.SetTag("stage/phase", "train");

        var dir = Path.Combine(_temp.Root, run.ExperimentId, run.RunId);
        Assert.Equal("0.001", File.ReadAllText(Path.Combine(dir, "params", "lr")));
        Assert.Equal("resnet50", File.ReadAllText(Path.Combine(dir, "params", "model", "backbone")));
        Assert.Equal("train", File.ReadAllText(Path.Combine(dir, "tags", "stage", "phase")));
        // Temp files of the atomic writes must not be left where MLflow would read them as entries.
        Assert.Equal(2, Directory.EnumerateFiles(Path.Combine(dir, "params"), "*", SearchOption.AllDirectories).Count());
        Assert.Empty(Directory.EnumerateFiles(dir, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void Params_AreImmutable()
    {
        var run = new MlflowFileStore(_temp.Root).StartRun("whales", "p", NoTags);
        run.LogParams(new Dictionary<string, string> { ["lr"] = "0.001" });
        run.LogParams(new Dictionary<string, string> { ["lr"] = "0.001" }); // same value: fine

        var e = Assert.Throws<ArgumentException>(() => run.LogParams(new Dictionary<string, string> { ["new"] = "x", ["lr"] = "0.01" }));
        Assert.Contains("Changing param values is not allowed", e.Message);
        var dir = Path.Combine(_temp.Root, run.ExperimentId, run.RunId, "params");
        Assert.Equal("0.001", File.ReadAllText(Path.Combine(dir, "lr")));
        Assert.False(File.Exists(Path.Combine(dir, "new"))); // a rejected batch writes nothing
    }

    [Theory]
    [InlineData("bad:key")]
    [InlineData("a//b")]
    [InlineData("/abs")]
    [InlineData("../up")]
    [InlineData("trailing/")]
    [InlineData("./dot")]
    [InlineData("")]
    [InlineData("new\nline")]
    public void InvalidKeys_AreRejected(string key)
    {
        var run = new MlflowFileStore(_temp.Root).StartRun("whales", "k", NoTags);
        Assert.Throws<ArgumentException>(() => run.LogMetric(key, 1));
        Assert.Throws<ArgumentException>(() => run.LogParams(new Dictionary<string, string> { [key] = "v" }));
        Assert.Throws<ArgumentException>(() => run.SetTag(key, "v"));
    }

    [Fact]
    public void LongKeysAndValues_AreRejected()
    {
        var run = new MlflowFileStore(_temp.Root).StartRun("whales", "k", NoTags);
        Assert.Throws<ArgumentException>(() => run.LogMetric(new string('a', 251), 1));
        run.LogParams(new Dictionary<string, string> { ["ok"] = new string('v', 6000) });
        Assert.Throws<ArgumentException>(() => run.LogParams(new Dictionary<string, string> { ["big"] = new string('v', 6001) }));
        Assert.Throws<ArgumentException>(() => run.SetTag("big", new string('v', 5001)));
        Assert.Throws<ArgumentException>(() => run.LogMetric("t", 1, timestampMs: -1));
    }

    [Fact]
    public void ValidKeysWithSpacesDotsDashes_AreAccepted()
    {
        var run = new MlflowFileStore(_temp.Root).StartRun("whales", "k", NoTags);
        run.LogMetric("top-1 acc.v2/fold_0", 0.9);
        Assert.Single(new MlflowFileStoreReader(_temp.Root).ReadMetricHistory(run.RunId, "top-1 acc.v2/fold_0"));
    }

    [Fact]
    public void ConflictingRunNameTag_IsRejected()
    {
        var store = new MlflowFileStore(_temp.Root);
        Assert.Throws<ArgumentException>(() => store.StartRun("whales", "a", new Dictionary<string, string> { ["mlflow.runName"] = "b" }));
        Assert.Throws<ArgumentException>(() => store.StartRun("whales", "", NoTags));
    }

    [Fact]
    public void RenamingThroughTheRunNameTag_UpdatesMeta()
    {
        var run = new MlflowFileStore(_temp.Root).StartRun("whales", "old", NoTags);
        run.SetTag("mlflow.runName", "new");
        Assert.Equal("new", new MlflowFileStoreReader(_temp.Root).FindRun(run.RunId)!.RunName);
    }

    [Fact]
    public void Artifacts_AreCopied_FilesAndFolders()
    {
        var run = new MlflowFileStore(_temp.Root).StartRun("whales", "art", NoTags);
        var file = Path.Combine(_temp.Folder, "report.md");
        File.WriteAllText(file, "# hi");
        var folder = Path.Combine(_temp.Folder, "plots");
        Directory.CreateDirectory(Path.Combine(folder, "sub"));
        File.WriteAllText(Path.Combine(folder, "sub", "a.png"), "png");

        run.LogArtifact(file);
        run.LogArtifact(file, "reports/final");
        run.LogArtifact(folder);

        var artifacts = Path.Combine(_temp.Root, run.ExperimentId, run.RunId, "artifacts");
        Assert.Equal("# hi", File.ReadAllText(Path.Combine(artifacts, "report.md")));
        Assert.Equal("# hi", File.ReadAllText(Path.Combine(artifacts, "reports", "final", "report.md")));
        Assert.Equal("png", File.ReadAllText(Path.Combine(artifacts, "plots", "sub", "a.png")));
        Assert.Throws<ArgumentException>(() => run.LogArtifact(file, "../escape"));
        Assert.Throws<FileNotFoundException>(() => run.LogArtifact(Path.Combine(_temp.Folder, "missing.txt")));
    }

    [Fact]
    public async Task ConcurrentTrackers_CreatingTheSameExperiment_ShareOne()
    {
        _ = new MlflowFileStore(_temp.Root);
        using var start = new Barrier(8);
        var tasks = Enumerable.Range(0, 8).Select(i => Task.Run(() =>
        {
            var store = new MlflowFileStore(_temp.Root); // separate tracker instances, as separate processes would have
            start.SignalAndWait();
            return store.StartRun("race", $"run-{i}", NoTags).ExperimentId;
        })).ToArray();
        var ids = await Task.WhenAll(tasks);

        Assert.Single(ids.Distinct());
        var reader = new MlflowFileStoreReader(_temp.Root);
        Assert.Single(reader.ListExperiments(), e => e.Name == "race");
        Assert.Equal(8, reader.ListRuns("race").Count);
    }

    [Fact]
    public void DeletedExperimentName_IsNotSilentlyReused()
    {
        var store = new MlflowFileStore(_temp.Root);
        var run = store.StartRun("old", "r", NoTags);
        // What `mlflow experiments delete` leaves: the folder moved to .trash with lifecycle_stage deleted.
        var trashed = Path.Combine(_temp.Root, ".trash", run.ExperimentId);
        Directory.Move(Path.Combine(_temp.Root, run.ExperimentId), trashed);
        var meta = Path.Combine(trashed, "meta.yaml");
        File.WriteAllText(meta, File.ReadAllText(meta).Replace("lifecycle_stage: active", "lifecycle_stage: deleted"));

        Assert.Throws<InvalidOperationException>(() => store.StartRun("old", "again", NoTags));
        Assert.Equal("2", store.StartRun("new", "r", NoTags).ExperimentId); // ids in the trash stay taken
    }
}
