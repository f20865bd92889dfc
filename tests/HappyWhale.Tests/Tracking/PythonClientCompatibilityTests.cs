using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using HappyWhale.Experiments;
using HappyWhale.Pipeline;
using HappyWhale.Tests.EndToEnd;
using HappyWhale.Tracking;

namespace HappyWhale.Tests.Tracking;

/// <summary>
/// MLflow's own Python client (2.11, ../shared/mlflow-server/lib) reads the artifacts/mlruns a short run, a small ablation and
/// a run that fails after training wrote: the experiments, each run's status, every param and tag, every metric history
/// point by point, the artifacts.
/// </summary>
[Collection(MlflowServerCollection.Name)]
public sealed class PythonClientCompatibilityTests
{
    private const string Dump = """
        import json, sys
        from mlflow import MlflowClient
        client = MlflowClient(tracking_uri=sys.argv[1])
        out = {"experiments": [], "runs": []}
        for e in client.search_experiments():
            out["experiments"].append({"id": e.experiment_id, "name": e.name})
            for r in client.search_runs([e.experiment_id], max_results=1000):
                def walk(path):
                    files = []
                    for a in client.list_artifacts(r.info.run_id, path):
                        files += walk(a.path) if a.is_dir else [a.path]
                    return files
                metrics = {k: [[m.step, m.timestamp, repr(m.value)] for m in client.get_metric_history(r.info.run_id, k)] for k in r.data.metrics}
                out["runs"].append({"id": r.info.run_id, "experiment_id": e.experiment_id, "name": r.info.run_name, "status": r.info.status,
                                    "start_time": r.info.start_time, "end_time": r.info.end_time, "params": r.data.params,
                                    "tags": r.data.tags, "metrics": metrics, "artifacts": sorted(walk(None))})
        print(json.dumps(out))
        """;

    [MlflowServerFact(Timeout = 10 * 60_000)]
    public async Task ThePythonClient_ReadsTheJournal_AsWeWroteIt()
    {
        await Task.Yield();
        using var repo = new TestRepository();
        repo.Write("tiny.yaml", TinyExperiment.Yaml.Replace("epochs: 1", "epochs: 2"));
        Directory.CreateDirectory(Path.Combine(repo.Experiments, "ablations"));
        File.WriteAllText(Path.Combine(repo.Experiments, "ablations", "mini.yaml"),
            "base: tiny\nmetric: test_map5\nvariants:\n  base: {}\n  flip:\n    evaluate.tta_hflip: true\n");
        var env = new Dictionary<string, string?>
        {
            ["MLFLOW_TRACKING_URI"] = null, ["MLFLOW_TRACKING_TOKEN"] = null, ["MLFLOW_EXPERIMENT_NAME"] = "compat",
            ["GLIBC_TUNABLES"] = "glibc.malloc.hugetlb=1",
        };
        var run = repo.RunCli(["run", "--exp", "tiny"], env);
        Assert.True(run.ExitCode == 0, run.Output);
        var ablation = repo.RunCli(["ablation", "--ablation", "mini"], env);
        Assert.True(ablation.ExitCode == 0, ablation.Output);
        // Fails at evaluate, after its (cached) training: an ensemble member that does not exist.
        var failing = repo.RunCli(["run", "--exp", "tiny", "--set", "evaluate.models=[self, nosuch]"], env);
        Assert.True(failing.ExitCode == 2, failing.Output);

        var root = Path.Combine(repo.Root, "artifacts", "mlruns");
        var python = PythonDump(root);
        var reader = new MlflowFileStoreReader(root);

        Assert.Equal(reader.ListExperiments().Select(e => (e.ExperimentId, e.Name)).Order(),
            python["experiments"]!.AsArray().Select(e => ((string)e!["id"]!, (string)e["name"]!)).Order());
        var runs = python["runs"]!.AsArray().Select(r => r!.AsObject()).ToList();
        Assert.Equal(5, runs.Count); // the run, the ablation's parent and its two children, the failed run
        foreach (var py in runs)
        {
            var ours = reader.FindRun((string)py["id"]!)!;
            Assert.Equal(MlflowRestClient.StatusName(ours.Status), (string)py["status"]!);
            Assert.Equal(py["params"]!["evaluate.models.1"] is null ? "FINISHED" : "FAILED", (string)py["status"]!);
            Assert.Equal((ours.RunName, ours.StartTime, ours.EndTime), ((string)py["name"]!, (long)py["start_time"]!, (long?)py["end_time"]));
            Assert.Equal(reader.ReadParams(ours), Strings(py["params"]));
            Assert.Equal(reader.ReadTags(ours), Strings(py["tags"]));
            var histories = reader.ReadMetricHistories(ours);
            var pyMetrics = py["metrics"]!.AsObject();
            Assert.Equal(histories.Keys, pyMetrics.Select(m => m.Key).Order(StringComparer.Ordinal));
            foreach (var (key, points) in histories)
                Assert.Equal(points.Select(p => (p.Step, p.TimestampMs, p.Value)),
                    pyMetrics[key]!.AsArray().Select(p => ((long)p![0]!, (long)p[1]!, PythonFloat((string)p[2]!))));
            var artifactRoot = Path.Combine(ours.Directory, "artifacts");
            Assert.Equal(Directory.EnumerateFiles(artifactRoot, "*", SearchOption.AllDirectories)
                    .Select(f => Path.GetRelativePath(artifactRoot, f).Replace('\\', '/')).Order(StringComparer.Ordinal),
                py["artifacts"]!.AsArray().Select(a => (string)a!));
        }

        // ... and what the pipeline produced is what was logged.
        var failed = runs.Single(r => (string)r["status"]! == "FAILED");
        Assert.Contains("nosuch: no such experiment", (string)failed["tags"]![TrackedRun.ErrorTag]!);
        Assert.Equal("hit", (string)failed["tags"]![ExperimentTracking.CacheTagPrefix + "train"]!);
        Assert.Equal(2, failed["metrics"]!["train_loss"]!.AsArray().Count); // the cached epochs were logged before it failed

        var single = runs.Single(r => (string)r["name"]! == "tiny" && r["tags"]![MlflowTags.ParentRunId] is null && r != failed);
        var experiment = ExperimentLoader.Load(repo.Experiments, "tiny");
        Assert.Equal(experiment.Flatten(), Strings(single["params"]));
        var trained = Directory.GetDirectories(Path.Combine(repo.Cache, "train")).Single(d => !Path.GetFileName(d).StartsWith('.'));
        Assert.Equal(TrainStage.ReadHistory(trained).Select(e => e.Loss), single["metrics"]!["train_loss"]!.AsArray().Select(p => PythonFloat((string)p![2]!)));
        Assert.Equal([0L, 1], single["metrics"]!["train_loss"]!.AsArray().Select(p => (long)p![0]!));
        var metricsJson = Path.Combine(repo.Root, (string)single["tags"]!["happywhale.run_folder"]!, EvaluateStage.MetricsFile);
        foreach (var (name, value) in EvaluateStage.ReadMetrics(Path.GetDirectoryName(metricsJson)!))
            Assert.Equal(value, PythonFloat((string)single["metrics"]![name]![0]![2]!));

        var parent = runs.Single(r => (string)r["name"]! == "ablation/mini");
        Assert.Equal(["map5.png", "report.md", "val_curves.png"], parent["artifacts"]!.AsArray().Select(a => (string)a!));
        Assert.Equal(["test_map5_base", "test_map5_flip"], parent["metrics"]!.AsObject().Select(m => m.Key).Order());
        var children = runs.Where(r => (string?)r["tags"]![MlflowTags.ParentRunId] == (string)parent["id"]!).ToList();
        Assert.Equal(2, children.Count);
        Assert.All(children, c => Assert.Contains("curves.png", c["artifacts"]!.AsArray().Select(a => (string)a!)));
    }

    private static SortedDictionary<string, string> Strings(JsonNode? map) =>
        new(map!.AsObject().ToDictionary(kv => kv.Key, kv => (string)kv.Value!), StringComparer.Ordinal);

    /// <summary>Python's repr of a float, read back exactly ("nan", "inf" included).</summary>
    private static double PythonFloat(string repr) => repr switch
    {
        "nan" => double.NaN,
        "inf" => double.PositiveInfinity,
        "-inf" => double.NegativeInfinity,
        _ => double.Parse(repr, CultureInfo.InvariantCulture),
    };

    private static JsonObject PythonDump(string storeRoot)
    {
        var script = Path.Combine(Path.GetTempPath(), $"hw-mlflow-dump-{Guid.NewGuid():N}.py");
        File.WriteAllText(script, Dump);
        try
        {
            var info = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
            info.ArgumentList.Add(script);
            info.ArgumentList.Add(storeRoot);
            info.Environment["PYTHONPATH"] = Path.Combine(RealMlflow.Scripts, "lib");
            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(3))) { process.Kill(true); throw new TimeoutException("the MLflow Python client did not finish in 3 minutes"); }
            Assert.True(process.ExitCode == 0, errors.Result);
            return JsonNode.Parse(output.Result)!.AsObject();
        }
        finally { File.Delete(script); }
    }
}
