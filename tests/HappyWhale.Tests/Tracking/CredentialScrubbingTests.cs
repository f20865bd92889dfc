using HappyWhale.Tracking;

namespace HappyWhale.Tests.Tracking;

/// <summary>A token and a password are set; nothing the tracker produces may contain them.</summary>
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
    public void TokenAndPassword_NeverInLogsParamsTagsSpoolOrExceptions()
    {
        using var server = new FakeMlflowServer(start: false);
        var env = new Dictionary<string, string> { ["MLFLOW_TRACKING_TOKEN"] = Token, ["MLFLOW_TRACKING_USERNAME"] = "alice", ["MLFLOW_TRACKING_PASSWORD"] = Password };
        var messages = new List<string>();

        // 1. Server down: everything spools.
        using (var tracker = _kit.Tracker(server.Uri.Replace("http://", $"http://alice:{Password}@"), env))
        {
            var run = tracker.StartRun("exp", "r", Leaky(server.Uri));
            run.LogParams(Leaky(server.Uri));
            run.SetTag("leak", $"Bearer {Token}");
            run.LogMetric("m", 1);
            run.End(RunStatus.Finished);
        }
        // 2. A proxy that echoes the Authorization header in its error message.
        server.Up();
        server.EchoAuthIn401 = true;
        foreach (var (name, vars) in new[] { ("bearer", env), ("basic", new Dictionary<string, string> { ["MLFLOW_TRACKING_USERNAME"] = "alice", ["MLFLOW_TRACKING_PASSWORD"] = Password }) })
        {
            using var tracker = _kit.Tracker(server.Uri, vars);
            var e = Assert.Throws<MlflowRestException>(() => tracker.StartRun("exp", "r2", new Dictionary<string, string>()));
            messages.Add(e.ToString());
            Assert.Contains(CredentialScrubber.Mask, e.Message);
            var replay = _kit.Replay(server.Uri, vars);
            messages.Add(replay.StoppedBecause ?? "");
        }
        // 3. Malformed URIs with credentials in exception messages.
        messages.Add(Assert.Throws<ArgumentException>(() => MlflowRestOptions.FromVariables($"ftp://alice:{Password}@h", null, _ => null)).Message);
        messages.Add(Assert.Throws<NotSupportedException>(() => TrackerFactory.ResolveFileStoreRoot($"http://alice:{Password}@h", _kit.Temp.Folder)).Message);
        messages.Add(Assert.Throws<NotSupportedException>(() => TrackerFactory.ResolveFileStoreRoot($"sqlite://alice:{Password}@h/db", _kit.Temp.Folder)).Message);
        // 4. Replay for real: what reaches the server's params and tags.
        server.EchoAuthIn401 = false;
        Assert.Equal(0, _kit.Replay(server.Uri, env).Remaining);

        var run0 = server.SingleRun("r");
        Assert.Contains(CredentialScrubber.Mask, run0.Params["tracking.uri"]);
        Assert.Contains(CredentialScrubber.Mask, run0.Tags["leak"]);
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
