using HappyWhale.Tracking;

namespace HappyWhale.Tests.Tracking;

/// <summary>A token and a password are set; nothing the tracking writes, logs, throws or sends (but the header) may contain them.</summary>
public sealed class CredentialScrubbingTests : IDisposable
{
    private const string Token = "tok-SECRET-1234567";
    private const string Password = "pw-SECRET-7654321";
    private readonly RestTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    private static void AssertClean(string text, string where)
    {
        Assert.False(text.Contains(Token), $"token in {where}: {text}");
        Assert.False(text.Contains(Password), $"password in {where}: {text}");
        var basic = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("alice:" + Password));
        Assert.False(text.Contains(basic), $"basic credentials in {where}");
    }

    private static Dictionary<string, string> Leaky(string serverUri) => new()
    {
        ["tracking.uri"] = serverUri.Replace("http://", $"http://alice:{Password}@"),
        ["note"] = $"token is {Token}",
    };

    [Fact]
    public void TokenAndPassword_NeverInTheJournalPushStateLogsExceptionsOrRequestBodies()
    {
        using var server = new FakeMlflowServer(start: false);
        var env = new Dictionary<string, string> { ["MLFLOW_TRACKING_TOKEN"] = Token, ["MLFLOW_TRACKING_USERNAME"] = "alice", ["MLFLOW_TRACKING_PASSWORD"] = Password };
        var messages = new List<string>();

        // 1. Server down: everything waits in the journal.
        using (var session = _kit.Session(server.Uri.Replace("http://", $"http://alice:{Password}@"), env))
        {
            var run = session.StartRun("exp", "r", Leaky(server.Uri));
            run.LogParams(Leaky(server.Uri));
            run.SetTag("leak", $"Bearer {Token}");
            run.LogMetric("m", 1);
            run.Fail(new InvalidOperationException($"failed at {Leaky(server.Uri)["tracking.uri"]} with {Token}"));
        }
        // 2. A proxy that echoes the Authorization header in its error message.
        server.Up();
        server.EchoAuthIn401 = true;
        foreach (var vars in new[] { env, new Dictionary<string, string> { ["MLFLOW_TRACKING_USERNAME"] = "alice", ["MLFLOW_TRACKING_PASSWORD"] = Password } })
        {
            var e = Assert.Throws<MlflowRestException>(() => _kit.Pusher(server.Uri, vars).PushAll(TimeSpan.FromSeconds(10)));
            messages.Add(e.ToString());
            Assert.Contains(CredentialScrubber.Mask, e.Message);
            messages.Add(TrackingSession.Sync(server.Uri, _kit.Repo, _kit.Log.Add, _kit.Env(vars)).StoppedBecause ?? "");
        }
        // 3. Malformed URIs with credentials in exception messages.
        messages.Add(Assert.Throws<ArgumentException>(() => MlflowRestOptions.FromVariables($"ftp://alice:{Password}@h", _ => null)).Message);
        messages.Add(Assert.Throws<NotSupportedException>(() => TrackingSession.ResolveFileStoreRoot($"http://alice:{Password}@h", _kit.Repo)).Message);
        messages.Add(Assert.Throws<NotSupportedException>(() => TrackingSession.ResolveFileStoreRoot($"sqlite://alice:{Password}@h/db", _kit.Repo)).Message);
        // 4. Pushed for real: what reaches the server's params and tags.
        server.EchoAuthIn401 = false;
        Assert.Equal(0, _kit.Pusher(server.Uri, env).PushAll(TimeSpan.FromSeconds(10)).Pending);

        var run0 = server.SingleRun("r");
        Assert.Equal("FAILED", run0.Status);
        Assert.Contains(CredentialScrubber.Mask, run0.Params["tracking.uri"]);
        Assert.Contains(CredentialScrubber.Mask, run0.Tags["leak"]);
        Assert.Contains(CredentialScrubber.Mask, run0.Tags[TrackedRun.ErrorTag]);
        foreach (var (k, v) in run0.Params.Concat(run0.Tags)) AssertClean(k + "=" + v, "server params/tags");
        foreach (var body in server.Bodies) AssertClean(body, "request bodies");
        foreach (var m in messages) AssertClean(m, "exception messages");
        foreach (var l in _kit.Log) AssertClean(l, "log");
        foreach (var f in Directory.EnumerateFiles(_kit.Temp.Folder, "*", SearchOption.AllDirectories))
            AssertClean(File.ReadAllText(f), f);
        // The credentials did travel, in the header only.
        Assert.Contains("Bearer " + Token, server.AuthHeaders);
    }

    [Fact]
    public void Scrubber_MasksUserInfoInAnyUri()
    {
        var s = new CredentialScrubber("secretvalue");
        Assert.Equal("see https://***@host/x and ***", s.Scrub("see https://bob:pa55@host/x and secretvalue"));
        Assert.Equal("http://host:5000", CredentialScrubber.StripUserInfo("http://u:p@host:5000"));
    }
}
