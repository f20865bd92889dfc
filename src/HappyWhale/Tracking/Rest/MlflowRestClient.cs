using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace HappyWhale.Tracking;

/// <summary>
/// MLflow's REST API (https://mlflow.org/docs/latest/rest-api.html) over System.Net.Http: JSON bodies under
/// /api/2.0/mlflow/, artifacts through the server's proxy /api/2.0/mlflow-artifacts/artifacts/. Retries as
/// mlflow/utils/rest_utils.py does: connection errors, timeouts, 429 and 5xx, with exponential backoff.
/// Every error message passes through the credential scrubber.
/// </summary>
public sealed class MlflowRestClient : IDisposable
{
    public const string ApiPrefix = "/api/2.0/mlflow/";
    public const string ArtifactsPrefix = "/api/2.0/mlflow-artifacts/artifacts/";
    public const string ArtifactUriScheme = "mlflow-artifacts:";

    private readonly HttpClient _http;
    private readonly AuthenticationHeaderValue? _auth;
    private int _requests;

    public MlflowRestOptions Options { get; }
    public CredentialScrubber Scrubber { get; }
    /// <summary>HTTP requests sent, retries included.</summary>
    public int RequestCount => _requests;

    public MlflowRestClient(MlflowRestOptions options, HttpMessageHandler? handler = null)
    {
        Options = options;
        Scrubber = options.Scrubber;
        if (handler is null)
        {
            var sockets = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), ConnectTimeout = TimeSpan.FromSeconds(30) };
            if (options.InsecureTls)
                sockets.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
            handler = sockets;
        }
        _http = new HttpClient(handler) { Timeout = options.Timeout };
        if (options.Token is not null)
            _auth = new AuthenticationHeaderValue("Bearer", options.Token);
        else if (options.Username is not null || options.Password is not null)
            _auth = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{options.Username}:{options.Password}")));
    }

    public void Dispose() => _http.Dispose();

    // ---- generic calls -------------------------------------------------------------------------

    public JsonObject Post(string endpoint, JsonObject body, bool retry = true) =>
        Send(() => new HttpRequestMessage(HttpMethod.Post, Options.BaseUri + ApiPrefix + endpoint)
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        }, endpoint, retry);

    public JsonObject Get(string endpoint, IEnumerable<KeyValuePair<string, string>> query) =>
        Send(() => new HttpRequestMessage(HttpMethod.Get, Options.BaseUri + ApiPrefix + endpoint + QueryString(query)), endpoint, retry: true);

    /// <summary>Sends with retries; returns the JSON body (empty object when there is none).</summary>
    private JsonObject Send(Func<HttpRequestMessage> make, string what, bool retry)
    {
        var bytes = SendRaw(make, what, retry);
        if (bytes.Length == 0) return [];
        try { return JsonNode.Parse(bytes) as JsonObject ?? []; }
        catch (JsonException) { return []; }
    }

    private byte[] SendRaw(Func<HttpRequestMessage> make, string what, bool retry)
    {
        var backoff = new Backoff(Options.InitialBackoff, Options.MaxBackoff);
        for (int attempt = 0; ; attempt++)
        {
            MlflowRestException failure;
            TimeSpan? retryAfter = null;
            try
            {
                using var request = make();
                if (_auth is not null) request.Headers.Authorization = _auth;
                Interlocked.Increment(ref _requests);
                using var response = _http.Send(request, HttpCompletionOption.ResponseContentRead);
                using var ms = new MemoryStream();
                response.Content.ReadAsStream().CopyTo(ms);
                var body = ms.ToArray();
                if (response.IsSuccessStatusCode) return body;
                failure = HttpError(what, response.StatusCode, body);
                retryAfter = response.Headers.RetryAfter?.Delta;
            }
            catch (HttpRequestException e)
            {
                failure = new MlflowRestException(Scrubber.Scrub($"MLflow {what} at {Options.BaseUri} failed: {e.Message}"), null, null, isTransient: true);
            }
            catch (TaskCanceledException)
            {
                failure = new MlflowRestException(Scrubber.Scrub($"MLflow {what} at {Options.BaseUri} timed out after {Options.Timeout.TotalSeconds:0}s."), null, null, isTransient: true);
            }
            catch (IOException e)
            {
                failure = new MlflowRestException(Scrubber.Scrub($"MLflow {what} at {Options.BaseUri} failed: {e.Message}"), null, null, isTransient: true);
            }
            if (!failure.IsTransient || !retry || attempt >= Options.MaxRetries) throw failure;
            backoff.Wait(atLeast: retryAfter);
        }
    }

    private MlflowRestException HttpError(string what, HttpStatusCode status, byte[] body)
    {
        int code = (int)status;
        string? errorCode = null, message = null;
        try
        {
            if (body.Length > 0 && JsonNode.Parse(body) is JsonObject o)
            {
                errorCode = (string?)o["error_code"];
                message = (string?)o["message"];
            }
        }
        catch (JsonException) { }
        message ??= Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 500));
        bool transient = code == 429 || code >= 500;
        return new MlflowRestException(Scrubber.Scrub($"MLflow {what} answered {code} {errorCode}: {message}".TrimEnd()), code, errorCode, transient);
    }

    private static string QueryString(IEnumerable<KeyValuePair<string, string>> query)
    {
        var parts = query.Select(kv => Uri.EscapeDataString(kv.Key) + "=" + Uri.EscapeDataString(kv.Value)).ToList();
        return parts.Count == 0 ? "" : "?" + string.Join('&', parts);
    }

    // ---- MLflow operations ---------------------------------------------------------------------

    /// <summary>experiments/get-by-name, else experiments/create; a concurrent create of the same name (RESOURCE_ALREADY_EXISTS) reads it again.</summary>
    public string GetOrCreateExperimentId(string name)
    {
        if (TryGetExperimentId(name) is { } id) return id;
        try
        {
            return (string)Post("experiments/create", new JsonObject { ["name"] = name })["experiment_id"]!;
        }
        catch (MlflowRestException e) when (e.ErrorCode == "RESOURCE_ALREADY_EXISTS")
        {
            if (TryGetExperimentId(name) is { } created) return created;
            throw;
        }
    }

    public string? TryGetExperimentId(string name)
    {
        try
        {
            var result = Get("experiments/get-by-name", [new("experiment_name", name)]);
            var experiment = result["experiment"];
            // A deleted experiment keeps its name; MLflow refuses to create another with it, so say so.
            if ((string?)experiment?["lifecycle_stage"] == "deleted")
                throw new MlflowRestException($"Experiment '{name}' exists in deleted state on the server; restore it or delete it permanently.", 400, "INVALID_STATE", false);
            return (string?)experiment?["experiment_id"];
        }
        catch (MlflowRestException e) when (e.ErrorCode == "RESOURCE_DOES_NOT_EXIST" || e.StatusCode == 404 && e.ErrorCode is null)
        {
            return null;
        }
    }

    /// <summary>
    /// runs/create, sent once (it is not idempotent: a re-send after a lost answer makes a second run); returns the server run id
    /// and artifact URI. <see cref="RunPusher"/> finds a run whose creation had an unknown outcome by its client id tag.
    /// </summary>
    public (string RunId, string ArtifactUri) CreateRun(string experimentId, string runName, long startTime,
        IReadOnlyList<KeyValuePair<string, string>> tags, string? userId)
    {
        var body = new JsonObject
        {
            ["experiment_id"] = experimentId,
            ["start_time"] = startTime,
            ["run_name"] = runName,
            ["tags"] = Tracking.LogBatch.Pairs(tags),
        };
        if (userId is not null) body["user_id"] = userId;
        var info = Post("runs/create", body, retry: false)["run"]?["info"]
            ?? throw new MlflowRestException("MLflow runs/create returned no run.", null, null, false);
        return ((string)info["run_id"]!, (string?)info["artifact_uri"] ?? "");
    }

    /// <summary>runs/log-batch. Metric points are not idempotent on the server (a second call adds them again): a batch with metrics is sent once.</summary>
    public void LogBatch(string runId, LogBatch batch)
    {
        var body = batch.ToJson();
        body["run_id"] = runId;
        Post("runs/log-batch", body, retry: batch.Metrics.Count == 0);
    }

    public void UpdateRun(string runId, RunStatus status, long endTime) =>
        Post("runs/update", new JsonObject { ["run_id"] = runId, ["status"] = StatusName(status), ["end_time"] = endTime });

    /// <summary>runs/get: the "run" object (info, data).</summary>
    public JsonObject GetRun(string runId) =>
        Get("runs/get", [new("run_id", runId)])["run"] as JsonObject ?? throw new MlflowRestException($"MLflow runs/get returned no run for {runId}.", null, null, false);

    /// <summary>metrics/get-history, every page.</summary>
    public List<MetricRecord> GetMetricHistory(string runId, string key)
    {
        var points = new List<MetricRecord>();
        string? token = null;
        do
        {
            var query = new List<KeyValuePair<string, string>> { new("run_id", runId), new("metric_key", key), new("max_results", "25000") };
            if (token is not null) query.Add(new("page_token", token));
            var page = Get("metrics/get-history", query);
            foreach (var m in page["metrics"] as JsonArray ?? [])
                points.Add(new MetricRecord((string)m!["key"]!, Tracking.LogBatch.ParseValue(m["value"]!), (long?)m["timestamp"] ?? 0, (long?)m["step"] ?? 0));
            token = (string?)page["next_page_token"];
        } while (!string.IsNullOrEmpty(token));
        return points;
    }

    /// <summary>runs/search for a run carrying tag key=value in an experiment; null when none, or when the server cannot search that way.</summary>
    public (string RunId, string ArtifactUri)? FindRunByTag(string experimentId, string key, string value)
    {
        try
        {
            var result = Post("runs/search", new JsonObject
            {
                ["experiment_ids"] = new JsonArray(experimentId),
                ["filter"] = $"tags.`{key}` = '{value.Replace("'", "\\'")}'",
                ["max_results"] = 1,
            });
            var info = (result["runs"] as JsonArray)?.FirstOrDefault()?["info"];
            return info is null ? null : ((string)info["run_id"]!, (string?)info["artifact_uri"] ?? "");
        }
        catch (MlflowRestException e) when (!e.IsTransient) { return null; }
    }

    public void PutArtifact(string artifactRoot, string artifactPath, string localFile)
    {
        var url = ArtifactUrl(artifactRoot, artifactPath);
        // Streamed from the file: a checkpoint can be large. Each attempt opens it again.
        SendRaw(() => new HttpRequestMessage(HttpMethod.Put, url) { Content = new StreamContent(File.OpenRead(localFile)) }, "artifact upload", retry: true);
    }

    public byte[] GetArtifact(string artifactRoot, string artifactPath) =>
        SendRaw(() => new HttpRequestMessage(HttpMethod.Get, ArtifactUrl(artifactRoot, artifactPath)), "artifact download", retry: true);

    /// <summary>
    /// The proxy URL for a file under a run's artifact root. A server that serves artifacts gives runs the root
    /// mlflow-artifacts:/&lt;experiment_id&gt;/&lt;run_id&gt;/artifacts, which MLflow's MlflowArtifactsRepository.resolve_uri
    /// maps to &lt;tracking uri&gt;/api/2.0/mlflow-artifacts/artifacts/&lt;experiment_id&gt;/&lt;run_id&gt;/artifacts.
    /// <paramref name="artifactRoot"/> is that URI.
    /// </summary>
    public string ArtifactUrl(string artifactRoot, string artifactPath)
    {
        var root = artifactRoot;
        if (root.StartsWith(ArtifactUriScheme, StringComparison.OrdinalIgnoreCase))
        {
            root = root[ArtifactUriScheme.Length..];
            if (root.StartsWith("//", StringComparison.Ordinal))
            {
                // mlflow-artifacts://host:port/path names the server itself; we talk to the tracking server's proxy.
                int slash = root.IndexOf('/', 2);
                root = slash < 0 ? "" : root[slash..];
            }
        }
        var segments = (root.Trim('/') + "/" + artifactPath.Trim('/')).Split('/', StringSplitOptions.RemoveEmptyEntries);
        return Options.BaseUri + ArtifactsPrefix + string.Join('/', segments.Select(Uri.EscapeDataString));
    }

    /// <summary>The REST API's status names are the enum's names in capitals (RUNNING, FINISHED, ...).</summary>
    public static string StatusName(RunStatus status) => status.ToString().ToUpperInvariant();
}
