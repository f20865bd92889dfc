using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using HappyWhale.Tests.EndToEnd;
using HappyWhale.Tracking;

namespace HappyWhale.Tests.Tracking;

/// <summary>
/// Against the real MLflow 2.11 server of ../shared/mlflow-server, with the real program training a tiny synthetic experiment:
/// live runs, a run killed with SIGKILL, a server stopped mid-run, credentials, and the push of every kind of record.
/// </summary>
[Collection(MlflowServerCollection.Name)]
public sealed partial class MlflowServerIntegrationTests : IDisposable
{
    private const int Minutes = 60_000;
    private readonly RestTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    private static string NewExperiment(string what) => $"happywhale-it-{what}-{Guid.NewGuid().ToString("N")[..8]}";

    private static TestRepository TinyRepository(int epochs)
    {
        var repo = new TestRepository();
        repo.Write("tiny.yaml", TinyExperiment.Yaml.Replace("epochs: 1", $"epochs: {epochs}"));
        return repo;
    }

    [GeneratedRegex(@"MLflow run ([0-9a-f]{32})")]
    private static partial Regex RunLine();

    private static string JournalId(string output) => RunLine().Match(output) is { Success: true } m ? m.Groups[1].Value : throw new Xunit.Sdk.XunitException("no run id in:\n" + output);

    /// <summary>Runs the program; the output with its line wrapping undone (the console wraps long lines).</summary>
    private static (int ExitCode, string Output) Run(TestRepository repo, Dictionary<string, string?> env, params string[] args)
    {
        var result = repo.RunCli(args, env);
        Assert.True(result.ExitCode == 0, result.Output);
        return (result.ExitCode, Unwrapped(result.Output));
    }

    private static string Unwrapped(string output) => Regex.Replace(output, @"\s+", " ");

    [MlflowServerFact(Timeout = 3 * Minutes)]
    public async Task Push_EveryStepParamTagAndArtifact_ReadsBackFromTheServer()
    {
        await Task.Yield();
        var server = RealMlflow.Shared();
        var experiment = NewExperiment("push");
        using var session = _kit.Session(server.Uri);
        var parent = session.StartRun(experiment, "parent", new Dictionary<string, string>());
        var run = session.StartRun(experiment, "child", new Dictionary<string, string> { ["variant"] = "a" }, parent.RunId);
        var ps = Enumerable.Range(0, 130).ToDictionary(i => $"p{i:000}", i => $"value {i}");
        ps["long"] = new string('y', 7000);
        run.LogParams(ps);
        for (int i = 0; i < 2100; i++) run.LogMetric("loss", 1.0 / (i + 1), i);
        run.LogMetric("final/map5", 0.625);
        var file = Path.Combine(_kit.Temp.Folder, "metrics.json");
        File.WriteAllText(file, "{\"map5\": 0.625}");
        run.LogArtifact(file, "eval");
        run.SetTag("note", "integration");
        run.End(RunStatus.Finished);
        parent.End(RunStatus.Finished);
        session.Dispose();
        Assert.Empty(_kit.Log);

        using var client = server.Client();
        var got = ServerRun.ByJournalId(client, experiment, run.RunId);
        Assert.Equal("FINISHED", got.Status);
        Assert.Equal(131, got.Params.Count);
        foreach (var (k, v) in ps.Where(p => p.Key != "long")) Assert.Equal(v, got.Params[k]);
        Assert.EndsWith("...[truncated]", got.Params["long"]);
        Assert.Equal(ServerRun.ByJournalId(client, experiment, parent.RunId).Id, got.Tags[MlflowTags.ParentRunId]);
        Assert.Equal("integration", got.Tags["note"]);
        Assert.Equal(Enumerable.Range(0, 2100).Select(i => (long)i), got.Metrics["loss"].Select(m => m.Step));
        Assert.Equal(Enumerable.Range(0, 2100).Select(i => 1.0 / (i + 1)), got.Metrics["loss"].Select(m => m.Value));
        Assert.Equal(0.625, Assert.Single(got.Metrics["final/map5"]).Value);
        Assert.Equal("{\"map5\": 0.625}", Encoding.UTF8.GetString(got.Artifacts["eval/metrics.json"]));
        AssertSameAsJournal(got, _kit.JournalRoot, run.RunId);
        Assert.Equal(0, _kit.Push(server.Uri).Requests);
    }

    /// <summary>
    /// A live run: the server shows it RUNNING with its params before training, then train_loss growing epoch by epoch while it
    /// trains. Killed with SIGKILL mid-training, it keeps its epochs so far; the next sync-tracking marks it KILLED.
    /// </summary>
    [MlflowServerFact(Timeout = 10 * Minutes)]
    public async Task LiveRun_GrowsEpochByEpochOnTheServer_AndAfterKillMinus9_IsMarkedKilledBySync()
    {
        await Task.Yield();
        var server = RealMlflow.Shared();
        var experiment = NewExperiment("live");
        using var repo = TinyRepository(epochs: 6);
        using var client = server.Client();
        var env = server.Env(experiment);

        var seen = new List<(string Status, int Params, int Epochs)>();
        using (var process = Process.Start(repo.CliStartInfo(["run", "--exp", "tiny"], env))!)
        {
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var deadline = DateTime.UtcNow.AddMinutes(8);
            // Until the server has shown two different epoch counts of a RUNNING run.
            while (seen.Where(s => s.Status == "RUNNING" && s.Epochs > 0).Select(s => s.Epochs).Distinct().Count() < 2)
            {
                Assert.False(process.HasExited, $"the run ended first; seen: {string.Join(", ", seen)}");
                Assert.True(DateTime.UtcNow < deadline, $"timed out; seen: {string.Join(", ", seen)}");
                if (ServerRun.RunIds(client, experiment) is [var id])
                {
                    var run = client.GetRun(id);
                    var now = ((string)run["info"]!["status"]!, (run["data"]?["params"] as JsonArray)?.Count ?? 0, client.GetMetricHistory(id, "train_loss").Count);
                    if (seen.Count == 0 || seen[^1] != now) seen.Add(now);
                }
                Thread.Sleep(100);
            }
            process.Kill(entireProcessTree: true); // SIGKILL: no finally block, no handler runs
            process.WaitForExit();
        }
        // Params come with the run's start, before any epoch.
        Assert.All(seen.Where(s => s.Epochs > 0), s => Assert.True(s.Params == seen[^1].Params && s.Params > 100, string.Join(", ", seen)));
        var counts = seen.Select(s => s.Epochs).ToList();
        Assert.Equal(counts.Order(), counts); // never shrinks
        Assert.All(seen, s => Assert.Equal("RUNNING", s.Status));

        var serverId = Assert.Single(ServerRun.RunIds(client, experiment));
        var killedRun = ServerRun.Read(client, serverId);
        Assert.Equal("RUNNING", killedRun.Status); // nothing could say otherwise yet
        int epochs = killedRun.Metrics["train_loss"].Count;
        Assert.InRange(epochs, 2, 5);

        var sync = Run(repo, env, "sync-tracking");
        Assert.Contains("1 abandoned run(s) marked KILLED", sync.Output);
        var after = ServerRun.Read(client, serverId);
        Assert.Equal("KILLED", after.Status);
        Assert.NotNull(after.EndTime);
        var journalId = after.Tags[RunPusher.ClientRunIdTag];
        Assert.Equal(RunStatus.Killed, new MlflowFileStoreReader(Path.Combine(repo.Root, "artifacts", "mlruns")).FindRun(journalId)!.Status);
        Assert.InRange(after.Metrics["train_loss"].Count, epochs, 5); // the epochs so far (one may have reached only the journal)
        AssertSameAsJournal(after, Path.Combine(repo.Root, "artifacts", "mlruns"), journalId);

        AssertSentNothing(Run(repo, env, "sync-tracking").Output);
    }

    private static void AssertSentNothing(string syncOutput) =>
        Assert.True(syncOutput.Contains("0 record(s) of 0 run(s) sent in 0 request(s)"), syncOutput);

    /// <summary>
    /// The server is stopped while a run trains and started again after the run ended: one sync-tracking makes the server's run
    /// what the journal holds, and what an undisturbed run of the same experiment looks like; a second sync sends nothing.
    /// </summary>
    [MlflowServerFact(Timeout = 15 * Minutes)]
    public async Task ServerStoppedAtAnEpoch_RestartedAfterTheRun_OneSyncEqualsAnUndisturbedRun()
    {
        await Task.Yield();
        using var server = RealMlflow.StartOwn();
        using var client = server.Client();
        var experiment = NewExperiment("outage");
        var env = server.Env(experiment);
        using var undisturbedRepo = TinyRepository(epochs: 3);
        using var disturbedRepo = TinyRepository(epochs: 3);

        var undisturbed = JournalId(Run(undisturbedRepo, env, "run", "--exp", "tiny").Output);

        string disturbed;
        using (var process = Process.Start(disturbedRepo.CliStartInfo(["run", "--exp", "tiny"], env))!)
        {
            var output = new StringBuilder();
            process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var deadline = DateTime.UtcNow.AddMinutes(8);
            while (ServerRun.RunIds(client, experiment).Count < 2 || TrainLossOfNewest(client, experiment, undisturbed) < 1)
            {
                Assert.False(process.HasExited, "the run ended before the server could be stopped:\n" + output);
                Assert.True(DateTime.UtcNow < deadline, "timed out waiting for the first epoch on the server");
                Thread.Sleep(100);
            }
            server.Stop(); // at epoch 1 of 3
            Assert.True(process.WaitForExit(TimeSpan.FromMinutes(8)), "the run did not finish");
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, output.ToString());
            Assert.Contains("not yet complete", Unwrapped(output.ToString()));
            disturbed = JournalId(output.ToString());
        }
        server.Start();

        var sync = Run(disturbedRepo, env, "sync-tracking");
        Assert.Contains("0 run(s) still pending", sync.Output);
        var a = ServerRun.ByJournalId(client, experiment, undisturbed);
        var b = ServerRun.ByJournalId(client, experiment, disturbed);
        Assert.Equal("FINISHED", b.Status);
        AssertSameAsJournal(b, Path.Combine(disturbedRepo.Root, "artifacts", "mlruns"), disturbed);
        AssertSameAsJournal(a, Path.Combine(undisturbedRepo.Root, "artifacts", "mlruns"), undisturbed);

        // Against the undisturbed run: all equal but what differs between any two runs (ids, run folder, speed, timings).
        Assert.Equal(a.Params, b.Params);
        string[] perRun = [RunPusher.ClientRunIdTag, "happywhale.run_folder"];
        Assert.Equal(a.Tags.Where(t => !perRun.Contains(t.Key)), b.Tags.Where(t => !perRun.Contains(t.Key)));
        Assert.Equal(a.Metrics.Keys, b.Metrics.Keys);
        Assert.Contains("train_loss", b.Metrics.Keys);
        foreach (var (key, history) in a.Metrics)
        {
            Assert.Equal(history.Select(p => p.Step), b.Metrics[key].Select(p => p.Step));
            if (key != "images_per_second") Assert.True(history.Select(p => p.Value).SequenceEqual(b.Metrics[key].Select(p => p.Value)), key);
        }
        Assert.Equal(a.Artifacts.Keys, b.Artifacts.Keys);
        foreach (var (path, bytes) in a.Artifacts.Where(f => f.Key != "stages.json")) // stages.json holds each stage's seconds
            Assert.True(bytes.AsSpan().SequenceEqual(b.Artifacts[path]), path);

        AssertSentNothing(Run(disturbedRepo, env, "sync-tracking").Output);
        Assert.Equivalent(b, ServerRun.ByJournalId(client, experiment, disturbed), strict: true);
    }

    private static int TrainLossOfNewest(MlflowRestClient client, string experiment, string undisturbedJournalId)
    {
        var undisturbedServerId = client.FindRunByTag(client.TryGetExperimentId(experiment)!, RunPusher.ClientRunIdTag, undisturbedJournalId)!.Value.RunId;
        return ServerRun.RunIds(client, experiment).Where(id => id != undisturbedServerId).Sum(id => client.GetMetricHistory(id, "train_loss").Count);
    }

    /// <summary>
    /// Passwords in tracking.uri and in MLFLOW_TRACKING_URI, and the token in MLFLOW_TRACKING_TOKEN, are found in no file under
    /// artifacts/ and in no param, tag or artifact on the server. The run logs its model (tracking.log_model); the second run is
    /// all cache hits and still logs its metrics, tagged as hits.
    /// </summary>
    [MlflowServerFact(Timeout = 10 * Minutes)]
    public async Task Credentials_AreInNoFileUnderArtifactsNorOnTheServer_ModelLogged_CacheHitsTagged()
    {
        await Task.Yield();
        var server = RealMlflow.Shared();
        using var client = server.Client();
        var experiment = NewExperiment("secrets");
        using var repo = TinyRepository(epochs: 2);
        string password1 = "pw1-" + Guid.NewGuid().ToString("N"), password2 = "pw2-" + Guid.NewGuid().ToString("N"), token = "tok-" + Guid.NewGuid().ToString("N");
        var withPassword = (string user, string password) => server.Uri.Replace("http://", $"http://{user}:{password}@");

        var env = server.Env(experiment);
        env["MLFLOW_TRACKING_URI"] = null;
        env["MLFLOW_TRACKING_TOKEN"] = token;
        var first = Run(repo, env, "run", "--exp", "tiny", "--set", $"tracking.uri={withPassword("alice", password1)}", "--set", "tracking.log_model=true");
        env["MLFLOW_TRACKING_URI"] = withPassword("bob", password2);
        env["MLFLOW_TRACKING_TOKEN"] = null;
        var second = Run(repo, env, "run", "--exp", "tiny", "--set", "tracking.log_model=true");

        string[] secrets = [password1, password2, token, Convert.ToBase64String(Encoding.UTF8.GetBytes($"bob:{password2}"))];
        var files = Directory.EnumerateFiles(Path.Combine(repo.Root, "artifacts"), "*", SearchOption.AllDirectories).ToList();
        Assert.True(files.Count > 50, $"{files.Count} files");
        foreach (var file in files)
        {
            var text = Encoding.UTF8.GetString(File.ReadAllBytes(file));
            foreach (var secret in secrets) Assert.False(text.Contains(secret), $"a secret in {file}");
        }
        var a = ServerRun.ByJournalId(client, experiment, JournalId(first.Output));
        var b = ServerRun.ByJournalId(client, experiment, JournalId(second.Output));
        foreach (var (where, text) in a.Texts().Concat(b.Texts()))
            foreach (var secret in secrets) Assert.False(text.Contains(secret), $"a secret in {where}");
        foreach (var output in new[] { first.Output, second.Output })
            foreach (var secret in secrets) Assert.DoesNotContain(secret, output);

        Assert.Equal($"http://***@{server.Uri["http://".Length..]}", a.Params["tracking.uri"]);
        Assert.Contains("uri: http://***@", Encoding.UTF8.GetString(a.Artifacts["resolved.yaml"]));
        foreach (var name in new[] { "model/model.bin", "model/classes.json", "model/history.json", "model/resolved.yaml", "resolved.yaml", "metrics.json",
                     "submission.csv", "threshold.png", "curves.png", "stages.json" })
            Assert.True(a.Artifacts.ContainsKey(name), $"{name} not among {string.Join(", ", a.Artifacts.Keys)}");
        var trained = Directory.GetDirectories(Path.Combine(repo.Cache, "train")).Single(d => !Path.GetFileName(d).StartsWith('.'));
        Assert.Equal(File.ReadAllBytes(Path.Combine(trained, "model.bin")), a.Artifacts["model/model.bin"]);

        Assert.Equal("run,run,run,run", string.Join(",", new[] { "synth", "prepare", "train", "evaluate" }.Select(s => a.Tags[ExperimentTracking.CacheTagPrefix + s])));
        Assert.Equal("hit,hit,hit,hit", string.Join(",", new[] { "synth", "prepare", "train", "evaluate" }.Select(s => b.Tags[ExperimentTracking.CacheTagPrefix + s])));
        Assert.Equal(a.Metrics.Keys, b.Metrics.Keys);
        Assert.Equal(a.Metrics["train_loss"].Select(p => (p.Step, p.Value)), b.Metrics["train_loss"].Select(p => (p.Step, p.Value)));
        Assert.Equal(a.Metrics["test_map5"].Single().Value, b.Metrics["test_map5"].Single().Value);
    }

    /// <summary>The server's run equals the journal's: info, params, tags, every metric point, every artifact's bytes.</summary>
    private static void AssertSameAsJournal(ServerRun server, string journalRoot, string journalId)
    {
        var reader = new MlflowFileStoreReader(journalRoot);
        var run = reader.FindRun(journalId)!;
        Assert.Equal(MlflowRestClient.StatusName(run.Status), server.Status);
        Assert.Equal((run.StartTime, run.EndTime), (server.StartTime, server.EndTime));
        Assert.Equal(reader.ReadParams(run), server.Params);
        var tags = new Dictionary<string, string>(reader.ReadTags(run)) { [RunPusher.ClientRunIdTag] = journalId };
        Assert.Equal(tags.Keys.Where(k => k != MlflowTags.ParentRunId).Order(StringComparer.Ordinal), server.Tags.Keys.Where(k => k != MlflowTags.ParentRunId));
        foreach (var (k, v) in tags.Where(t => t.Key != MlflowTags.ParentRunId)) Assert.Equal(v, server.Tags[k]);
        var histories = reader.ReadMetricHistories(run);
        Assert.Equal(histories.Keys, server.Metrics.Keys);
        foreach (var (key, points) in histories)
            Assert.Equal(points.OrderBy(p => p.Step).ThenBy(p => p.TimestampMs).Select(p => (p.Step, p.TimestampMs, p.Value)),
                server.Metrics[key].Select(p => (p.Step, p.TimestampMs, p.Value)));
        var artifactRoot = Path.Combine(run.Directory, "artifacts");
        var files = Directory.EnumerateFiles(artifactRoot, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(artifactRoot, f).Replace('\\', '/'), File.ReadAllBytes);
        Assert.Equal(files.Keys.Order(StringComparer.Ordinal), server.Artifacts.Keys);
        foreach (var (path, bytes) in files) Assert.True(bytes.AsSpan().SequenceEqual(server.Artifacts[path]), path);
    }
}
