using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace HappyWhale.Tests.Tracking;

/// <summary>
/// A small MLflow tracking server inside the test (HttpListener on 127.0.0.1): the REST calls the tracker uses,
/// MLflow's log-batch limits enforced, and failure injection (down = connection refused, 503s, apply-then-503).
/// </summary>
public sealed class FakeMlflowServer : IDisposable
{
    public sealed class Run
    {
        public required string Id, ExperimentId, Name;
        public string Status = "RUNNING";
        public long StartTime;
        public long? EndTime;
        public readonly Dictionary<string, string> Tags = new(), Params = new();
        public readonly List<(string Key, double Value, long Timestamp, long Step)> Metrics = [];
    }

    private readonly object _gate = new();
    private HttpListener? _listener;
    private Thread? _thread;
    private int _requestNumber;

    public int Port { get; }
    public string Uri => $"http://127.0.0.1:{Port}";
    public Dictionary<string, string> Experiments { get; } = new(); // name -> id
    public Dictionary<string, Run> Runs { get; } = new();
    public Dictionary<string, byte[]> Artifacts { get; } = new();
    public ConcurrentDictionary<string, int> Calls { get; } = new();
    public ConcurrentQueue<string> Bodies { get; } = new();
    public ConcurrentQueue<string?> AuthHeaders { get; } = new();

    /// <summary>Requests numbered (1-based) at or after this get 503 without being applied.</summary>
    public int? FailFrom { get; set; }
    /// <summary>Requests numbered at or after this are applied, then answered 503 (the client cannot know they worked).</summary>
    public int? ApplyThenFailFrom { get; set; }
    /// <summary>The next N requests get 503.</summary>
    public int Fail503Next { get; set; }
    /// <summary>The first get-by-name says "does not exist" although it does (another client created it meanwhile).</summary>
    public bool MissOnceOnGetByName { get; set; }
    /// <summary>Answer every request 401 with a message echoing the Authorization header (a badly behaved proxy).</summary>
    public bool EchoAuthIn401 { get; set; }
    /// <summary>Every request waits this long before it is handled (a slow server).</summary>
    public TimeSpan Delay { get; set; }

    public int RequestCount => Volatile.Read(ref _requestNumber);
    public int CallCount(string endpoint) => Calls.GetValueOrDefault(endpoint);

    public FakeMlflowServer(bool start = true)
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        if (start) Up();
    }

    public void Up()
    {
        var listener = new HttpListener();
        listener.Prefixes.Add(Uri + "/");
        listener.Start();
        _listener = listener;
        _thread = new Thread(() => Loop(listener)) { IsBackground = true };
        _thread.Start();
    }

    public void Down()
    {
        var l = _listener;
        _listener = null;
        if (l is null) return;
        l.Stop();
        l.Close();
        _thread?.Join(TimeSpan.FromSeconds(5));
    }

    public void Dispose() => Down();

    private void Loop(HttpListener listener)
    {
        while (listener.IsListening)
        {
            HttpListenerContext ctx;
            try { ctx = listener.GetContext(); }
            catch (Exception) { return; }
            try { Handle(ctx); }
            catch (Exception e) { Reply(ctx, 500, new JsonObject { ["error_code"] = "INTERNAL_ERROR", ["message"] = e.Message }); }
        }
    }

    private void Handle(HttpListenerContext ctx)
    {
        int n = Interlocked.Increment(ref _requestNumber);
        if (Delay > TimeSpan.Zero) Thread.Sleep(Delay);
        var req = ctx.Request;
        var path = req.Url!.AbsolutePath;
        byte[] raw;
        using (var ms = new MemoryStream()) { req.InputStream.CopyTo(ms); raw = ms.ToArray(); }
        AuthHeaders.Enqueue(req.Headers["Authorization"]);
        if (EchoAuthIn401)
        {
            var auth = req.Headers["Authorization"] ?? "";
            var decoded = auth.StartsWith("Basic ") ? Encoding.UTF8.GetString(Convert.FromBase64String(auth[6..])) : "";
            Reply(ctx, 401, new JsonObject { ["error_code"] = "UNAUTHENTICATED", ["message"] = $"rejected {auth} ({decoded})" });
            return;
        }
        bool fail;
        lock (_gate)
        {
            fail = FailFrom is { } f && n >= f;
            if (!fail && Fail503Next > 0) { Fail503Next--; fail = true; }
        }
        if (fail) { Reply(ctx, 503, new JsonObject { ["error_code"] = "TEMPORARILY_UNAVAILABLE", ["message"] = "down" }); return; }

        JsonObject result;
        int status = 200;
        string endpoint;
        lock (_gate)
        {
            if (path.StartsWith("/api/2.0/mlflow-artifacts/artifacts/"))
            {
                endpoint = "artifacts " + req.HttpMethod;
                var key = path["/api/2.0/mlflow-artifacts/artifacts/".Length..];
                Calls.AddOrUpdate(endpoint, 1, (_, c) => c + 1);
                if (req.HttpMethod == "PUT") { Artifacts[System.Uri.UnescapeDataString(key)] = raw; result = []; }
                else if (Artifacts.TryGetValue(System.Uri.UnescapeDataString(key), out var bytes))
                {
                    ctx.Response.StatusCode = 200;
                    ctx.Response.OutputStream.Write(bytes);
                    ctx.Response.Close();
                    return;
                }
                else { status = 404; result = Error("RESOURCE_DOES_NOT_EXIST", "no artifact"); }
            }
            else
            {
                endpoint = path.Replace("/api/2.0/mlflow/", "");
                Calls.AddOrUpdate(endpoint, 1, (_, c) => c + 1);
                var body = raw.Length > 0 ? JsonNode.Parse(raw) as JsonObject ?? [] : [];
                if (raw.Length > 0) Bodies.Enqueue(Encoding.UTF8.GetString(raw));
                (status, result) = Dispatch(endpoint, body, req);
            }
        }
        if (ApplyThenFailFrom is { } af && n >= af) { Reply(ctx, 503, Error("TEMPORARILY_UNAVAILABLE", "applied, then lost the answer")); return; }
        Reply(ctx, status, result);
    }

    private static JsonObject Error(string code, string message) => new() { ["error_code"] = code, ["message"] = message };

    private (int, JsonObject) Dispatch(string endpoint, JsonObject body, HttpListenerRequest req)
    {
        switch (endpoint)
        {
            case "experiments/get-by-name":
            {
                var name = req.QueryString["experiment_name"]!;
                if (MissOnceOnGetByName) { MissOnceOnGetByName = false; return (404, Error("RESOURCE_DOES_NOT_EXIST", "no such experiment")); }
                return Experiments.TryGetValue(name, out var id)
                    ? (200, new JsonObject { ["experiment"] = new JsonObject { ["experiment_id"] = id, ["name"] = name, ["lifecycle_stage"] = "active" } })
                    : (404, Error("RESOURCE_DOES_NOT_EXIST", $"Experiment '{name}' does not exist."));
            }
            case "experiments/create":
            {
                var name = (string)body["name"]!;
                if (Experiments.ContainsKey(name)) return (400, Error("RESOURCE_ALREADY_EXISTS", $"Experiment '{name}' already exists."));
                var id = (Experiments.Count + 1).ToString();
                Experiments[name] = id;
                return (200, new JsonObject { ["experiment_id"] = id });
            }
            case "runs/create":
            {
                var exp = (string)body["experiment_id"]!;
                if (!Experiments.ContainsValue(exp)) return (404, Error("RESOURCE_DOES_NOT_EXIST", "no experiment"));
                var run = new Run { Id = Guid.NewGuid().ToString("N"), ExperimentId = exp, Name = (string)body["run_name"]!, StartTime = (long)body["start_time"]! };
                foreach (var t in (JsonArray)body["tags"]!) run.Tags[(string)t!["key"]!] = (string)t["value"]!;
                Runs[run.Id] = run;
                return (200, new JsonObject { ["run"] = new JsonObject { ["info"] = Info(run) } });
            }
            case "runs/log-batch":
            {
                if (!Runs.TryGetValue((string)body["run_id"]!, out var run)) return (404, Error("RESOURCE_DOES_NOT_EXIST", "no run"));
                var metrics = body["metrics"] as JsonArray ?? [];
                var ps = body["params"] as JsonArray ?? [];
                var ts = body["tags"] as JsonArray ?? [];
                if (metrics.Count > 1000 || ps.Count > 100 || ts.Count > 100 || metrics.Count + ps.Count + ts.Count > 1000)
                    return (400, Error("INVALID_PARAMETER_VALUE", "batch too large"));
                foreach (var p in ps)
                {
                    var (k, v) = ((string)p!["key"]!, (string)p["value"]!);
                    if (v.Length > 6000) return (400, Error("INVALID_PARAMETER_VALUE", "param value too long"));
                    if (run.Params.TryGetValue(k, out var old) && old != v) return (400, Error("INVALID_PARAMETER_VALUE", "changing param"));
                }
                foreach (var p in ps) run.Params[(string)p!["key"]!] = (string)p["value"]!;
                foreach (var t in ts) run.Tags[(string)t!["key"]!] = (string)t["value"]!;
                foreach (var m in metrics)
                    run.Metrics.Add(((string)m!["key"]!, HappyWhale.Tracking.LogBatch.ParseValue(m["value"]!), (long)m["timestamp"]!, (long?)m["step"] ?? 0));
                return (200, []);
            }
            case "runs/update":
            {
                if (!Runs.TryGetValue((string)body["run_id"]!, out var run)) return (404, Error("RESOURCE_DOES_NOT_EXIST", "no run"));
                run.Status = (string)body["status"]!;
                run.EndTime = (long?)body["end_time"];
                return (200, new JsonObject { ["run_info"] = Info(run) });
            }
            case "runs/set-tag":
            {
                if (!Runs.TryGetValue((string)body["run_id"]!, out var run)) return (404, Error("RESOURCE_DOES_NOT_EXIST", "no run"));
                run.Tags[(string)body["key"]!] = (string)body["value"]!;
                return (200, []);
            }
            case "runs/get":
            {
                if (!Runs.TryGetValue(req.QueryString["run_id"]!, out var run)) return (404, Error("RESOURCE_DOES_NOT_EXIST", "no run"));
                return (200, new JsonObject { ["run"] = new JsonObject { ["info"] = Info(run), ["data"] = new JsonObject
                {
                    ["params"] = HappyWhale.Tracking.LogBatch.Pairs(run.Params),
                    ["tags"] = HappyWhale.Tracking.LogBatch.Pairs(run.Tags),
                } } });
            }
            case "metrics/get-history":
            {
                if (!Runs.TryGetValue(req.QueryString["run_id"]!, out var run)) return (404, Error("RESOURCE_DOES_NOT_EXIST", "no run"));
                var key = req.QueryString["metric_key"];
                var arr = new JsonArray();
                foreach (var m in run.Metrics.Where(m => m.Key == key))
                    arr.Add(new JsonObject { ["key"] = m.Key, ["value"] = HappyWhale.Tracking.LogBatch.MetricValue(m.Value), ["timestamp"] = m.Timestamp, ["step"] = m.Step });
                return (200, new JsonObject { ["metrics"] = arr });
            }
            case "runs/search":
            {
                var match = Regex.Match((string?)body["filter"] ?? "", @"^tags\.`(?<k>[^`]+)` = '(?<v>[^']*)'$");
                if (!match.Success) return (400, Error("INVALID_PARAMETER_VALUE", "bad filter"));
                var ids = ((JsonArray)body["experiment_ids"]!).Select(x => (string)x!).ToHashSet();
                var found = Runs.Values.Where(r => ids.Contains(r.ExperimentId) && r.Tags.GetValueOrDefault(match.Groups["k"].Value) == match.Groups["v"].Value);
                var arr = new JsonArray();
                foreach (var r in found) arr.Add(new JsonObject { ["info"] = Info(r) });
                return (200, new JsonObject { ["runs"] = arr });
            }
            default:
                return (404, Error("ENDPOINT_NOT_FOUND", "no such endpoint " + endpoint));
        }
    }

    private static JsonObject Info(Run r) => new()
    {
        ["run_id"] = r.Id, ["run_uuid"] = r.Id, ["experiment_id"] = r.ExperimentId, ["run_name"] = r.Name, ["status"] = r.Status,
        ["start_time"] = r.StartTime, ["end_time"] = r.EndTime, ["artifact_uri"] = $"mlflow-artifacts:/{r.ExperimentId}/{r.Id}/artifacts",
        ["lifecycle_stage"] = "active",
    };

    private static void Reply(HttpListenerContext ctx, int status, JsonObject body)
    {
        try
        {
            ctx.Response.StatusCode = status;
            ctx.Response.ContentType = "application/json";
            var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
            ctx.Response.OutputStream.Write(bytes);
            ctx.Response.Close();
        }
        catch (Exception) { }
    }

    /// <summary>Metric points of every run.</summary>
    public int MetricCount()
    {
        lock (_gate) return Runs.Values.Sum(r => r.Metrics.Count);
    }

    /// <summary>The only run of the named experiment.</summary>
    public Run SingleRun(string? name = null)
    {
        lock (_gate) return name is null ? Runs.Values.Single() : Runs.Values.Single(r => r.Name == name);
    }
}
