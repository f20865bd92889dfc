using HappyWhale.Tracking;

namespace HappyWhale.Tests.Tracking;

/// <summary>Runs as this process records them: their lock, their values on the way into the journal.</summary>
public sealed class LiveRunTests : IDisposable
{
    private readonly RestTestKit _kit = new();
    private static readonly Dictionary<string, string> NoTags = new();

    public void Dispose() => _kit.Dispose();

    private string LiveFolder => Path.Combine(_kit.Repo, "artifacts", TrackingSession.SyncFolderName, "live");

    [Fact]
    public void ARunWhoseProcessDied_IsEndedKilled_ALiveOneIsLeftAlone()
    {
        using var session = TrackingSession.Open(null, _kit.Repo);
        var live = session.StartRun("exp", "live", NoTags);
        // What a process killed mid-run leaves: a RUNNING run and its lock file, held by no one.
        var dead = session.Journal.StartRun("exp", "dead", NoTags);
        File.WriteAllText(Path.Combine(LiveFolder, dead.RunId + ".lock"), session.Journal.RootDirectory);

        Assert.Equal([dead.RunId], session.RecoverAbandoned());

        var reader = new MlflowFileStoreReader(session.Journal.RootDirectory);
        var killed = reader.FindRun(dead.RunId)!;
        Assert.Equal(RunStatus.Killed, killed.Status);
        Assert.NotNull(killed.EndTime);
        Assert.Equal("dead", killed.RunName);
        Assert.Equal(RunStatus.Running, reader.FindRun(live.RunId)!.Status);
        Assert.Equal([live.RunId + ".lock"], Directory.GetFiles(LiveFolder).Select(Path.GetFileName));
        Assert.Empty(session.RecoverAbandoned());

        live.End(RunStatus.Finished);
        Assert.Empty(Directory.GetFiles(LiveFolder));
        Assert.Equal(RunStatus.Finished, reader.FindRun(live.RunId)!.Status);
    }

    [Fact]
    public void ValuesAreScrubbedAndCutToMlflowsLimits_BeforeTheJournal()
    {
        var env = new Dictionary<string, string> { ["MLFLOW_TRACKING_TOKEN"] = "tok-SECRET-123" };
        using var session = TrackingSession.Open(null, _kit.Repo, _kit.Log.Add, _kit.Env(env));
        var run = session.StartRun("exp", "r", new Dictionary<string, string> { ["uri"] = "http://alice:pw-SECRET@host" });
        run.LogParams(new Dictionary<string, string> { ["long"] = new string('x', 7000), ["token"] = "tok-SECRET-123" });
        run.Fail(new InvalidOperationException("could not reach https://bob:pw2-SECRET@host:5000 with tok-SECRET-123"));

        var reader = new MlflowFileStoreReader(session.Journal.RootDirectory);
        var ps = reader.ReadParams(run.RunId);
        Assert.Equal(MlflowNames.MaxParamValueLength, ps["long"].Length);
        Assert.EndsWith("...[truncated]", ps["long"]);
        Assert.Equal("***", ps["token"]);
        var tags = reader.ReadTags(run.RunId);
        Assert.Equal("http://***@host", tags["uri"]);
        Assert.Equal("InvalidOperationException: could not reach https://***@host:5000 with ***", tags[TrackedRun.ErrorTag]);
        Assert.Equal(RunStatus.Failed, reader.FindRun(run.RunId)!.Status);
        foreach (var file in Directory.EnumerateFiles(_kit.Repo, "*", SearchOption.AllDirectories))
            Assert.DoesNotContain("SECRET", File.ReadAllText(file));
    }

    [Fact]
    public void TrackingUris_PickTheJournalAndTheServer()
    {
        string Root(string? uri) => TrackingSession.JournalRoot(uri, _kit.Repo);
        Assert.Equal(Path.Combine(_kit.Repo, "artifacts", "mlruns"), Root(null));
        Assert.Equal(Path.Combine(_kit.Repo, "artifacts", "mlruns"), Root("  "));
        Assert.Equal(Path.Combine(_kit.Repo, "rel"), Root("rel"));
        Assert.Equal("/abs/my store", Root("file:///abs/my%20store"));
        Assert.Equal("/abs/store", Root("file://localhost/abs/store"));
        Assert.Equal(Path.Combine(_kit.Repo, "artifacts", "mlruns"), Root("https://user:pw@mlflow.example.com"));
        Assert.Throws<NotSupportedException>(() => TrackingSession.Open("sqlite:///mlflow.db", _kit.Repo));

        using var session = TrackingSession.Open("http://localhost:5000", _kit.Repo);
        Assert.Equal("http://localhost:5000", session.Pusher!.Client.Options.BaseUri);
        Assert.Equal(Path.Combine(_kit.Repo, "artifacts", "mlruns-sync", "http_localhost_5000"), session.Pusher.StateFolder);
        Assert.Null(TrackingSession.Open(null, _kit.Repo).Pusher);
    }
}
