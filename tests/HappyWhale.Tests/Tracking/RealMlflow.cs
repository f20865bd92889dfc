using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using HappyWhale.Tests.EndToEnd;
using HappyWhale.Tracking;

namespace HappyWhale.Tests.Tracking;

/// <summary>
/// A fact that needs the real MLflow server of ../shared/mlflow-server, named by MLFLOW_TEST_TRACKING_URI (`.ci/run` starts
/// one). Without it the test reports itself skipped, except in CI (CI=true), where a missing server is a failure.
/// These tests run one at a time (their collection is not parallel), so their time limits hold.
/// </summary>
public sealed class MlflowServerFactAttribute : FactAttribute
{
    public const string Variable = "MLFLOW_TEST_TRACKING_URI";

    public MlflowServerFactAttribute()
    {
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(Variable)) && Environment.GetEnvironmentVariable("CI") != "true")
            Skip = $"{Variable} is not set: start ../shared/mlflow-server/start.sh and point it there (bash .ci/run does).";
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MlflowServerCollection
{
    public const string Name = "MLflow server";
}

/// <summary>The real MLflow server: the one the test run was given, or one a test starts, stops and restarts itself.</summary>
public sealed class RealMlflow : IDisposable
{
    private readonly string? _dir;
    private readonly int _port;

    public string Uri { get; }

    private RealMlflow(string uri, string? dir, int port) => (Uri, _dir, _port) = (uri, dir, port);

    public static RealMlflow Shared() => new(Environment.GetEnvironmentVariable(MlflowServerFactAttribute.Variable) is { Length: > 0 } uri
        ? uri.TrimEnd('/')
        : throw new InvalidOperationException($"{MlflowServerFactAttribute.Variable} is not set: the MLflow server tests need the server of ../shared/mlflow-server (bash .ci/run starts it)."), null, 0);

    /// <summary>A server of this test's own (free local port, temporary folder), so it can be stopped and restarted.</summary>
    public static RealMlflow StartOwn()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var server = new RealMlflow($"http://127.0.0.1:{port}", Directory.CreateTempSubdirectory("hw-mlflow-").FullName, port);
        server.Start();
        return server;
    }

    public static string Scripts => Path.GetFullPath(Path.Combine(TestRepository.SourceRoot(), "..", "shared", "mlflow-server"));

    public void Start() => Script("start.sh", "--port", _port.ToString(), "--dir", _dir!);

    public void Stop() => Script("stop.sh", _dir!);

    public void Dispose()
    {
        if (_dir is null) return;
        Stop();
        Directory.Delete(_dir, recursive: true);
    }

    private static void Script(string name, params string[] args)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(Scripts, name));
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3))) { process.Kill(true); throw new TimeoutException($"{name} did not finish in 3 minutes"); }
        Assert.True(process.ExitCode == 0, $"{name} failed: {output.Result}{errors.Result}");
    }

    public MlflowRestClient Client() => new(MlflowRestOptions.FromVariables(Uri, _ => null) with { MaxRetries = 1 });

    /// <summary>The variables of a `happywhale` child process: this server, an experiment of the test's own, fast retries, none inherited.</summary>
    public Dictionary<string, string?> Env(string experiment) => new()
    {
        ["MLFLOW_TRACKING_URI"] = Uri, ["MLFLOW_EXPERIMENT_NAME"] = experiment,
        ["MLFLOW_TRACKING_TOKEN"] = null, ["MLFLOW_TRACKING_USERNAME"] = null, ["MLFLOW_TRACKING_PASSWORD"] = null,
        ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "1", ["MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"] = "0.2", ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = "20",
        ["GLIBC_TUNABLES"] = "glibc.malloc.hugetlb=1",
    };
}

/// <summary>A run as the server holds it: info, params, tags, every metric's history, every artifact's bytes.</summary>
public sealed record ServerRun(string Id, string Status, long StartTime, long? EndTime,
    SortedDictionary<string, string> Params, SortedDictionary<string, string> Tags,
    SortedDictionary<string, List<MetricRecord>> Metrics, SortedDictionary<string, byte[]> Artifacts)
{
    /// <summary>The runs of an experiment (none when it does not exist yet).</summary>
    public static List<string> RunIds(MlflowRestClient client, string experiment)
    {
        if (client.TryGetExperimentId(experiment) is not { } id) return [];
        var found = client.Post("runs/search", new JsonObject { ["experiment_ids"] = new JsonArray(id), ["max_results"] = 100 });
        return (found["runs"] as JsonArray ?? []).Select(r => (string)r!["info"]!["run_id"]!).ToList();
    }

    /// <summary>The server's run pushed from the journal run <paramref name="journalId"/>.</summary>
    public static ServerRun ByJournalId(MlflowRestClient client, string experiment, string journalId) =>
        Read(client, client.FindRunByTag(client.TryGetExperimentId(experiment)!, RunPusher.ClientRunIdTag, journalId)!.Value.RunId);

    public static ServerRun Read(MlflowRestClient client, string runId, bool withArtifacts = true)
    {
        var run = client.GetRun(runId);
        var info = run["info"]!;
        var data = run["data"] as JsonObject ?? [];
        var metrics = new SortedDictionary<string, List<MetricRecord>>(StringComparer.Ordinal);
        foreach (var m in data["metrics"] as JsonArray ?? [])
            metrics[(string)m!["key"]!] = client.GetMetricHistory(runId, (string)m["key"]!).OrderBy(p => p.Step).ThenBy(p => p.TimestampMs).ToList();
        var artifacts = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        if (withArtifacts) AddArtifacts(client, runId, (string)info["artifact_uri"]!, "", artifacts);
        return new ServerRun(runId, (string)info["status"]!, (long)info["start_time"]!, (long?)info["end_time"],
            Pairs(data["params"]), Pairs(data["tags"]), metrics, artifacts);
    }

    private static SortedDictionary<string, string> Pairs(JsonNode? node) =>
        new((node as JsonArray ?? []).ToDictionary(p => (string)p!["key"]!, p => (string?)p!["value"] ?? ""), StringComparer.Ordinal);

    private static void AddArtifacts(MlflowRestClient client, string runId, string root, string path, SortedDictionary<string, byte[]> into)
    {
        var listing = client.Get("artifacts/list", [new("run_id", runId), new("path", path)]);
        foreach (var f in listing["files"] as JsonArray ?? [])
        {
            var p = (string)f!["path"]!;
            if ((bool?)f["is_dir"] == true) AddArtifacts(client, runId, root, p, into);
            else into[p] = client.GetArtifact(root, p);
        }
    }

    /// <summary>Every string the run holds, for a search: params, tags, and the artifacts as UTF-8 text.</summary>
    public IEnumerable<(string Where, string Text)> Texts() =>
        Params.Select(p => ($"param {p.Key}", p.Key + "=" + p.Value))
            .Concat(Tags.Select(t => ($"tag {t.Key}", t.Key + "=" + t.Value)))
            .Concat(Artifacts.Select(a => ($"artifact {a.Key}", Encoding.UTF8.GetString(a.Value))));
}
