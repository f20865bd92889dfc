using System.Globalization;

namespace HappyWhale.Tracking;

/// <summary>
/// How to reach an MLflow tracking server. <see cref="FromEnvironment"/> reads MLflow's own variables
/// (mlflow/environment_variables.py): MLFLOW_TRACKING_TOKEN (Bearer, wins over Basic),
/// MLFLOW_TRACKING_USERNAME + MLFLOW_TRACKING_PASSWORD (Basic), MLFLOW_TRACKING_INSECURE_TLS,
/// MLFLOW_HTTP_REQUEST_MAX_RETRIES, MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR, MLFLOW_HTTP_REQUEST_TIMEOUT.
/// A "user:pass@" in the URI is used for Basic auth when no variable gives credentials, and never kept in <see cref="BaseUri"/>.
/// </summary>
public sealed record MlflowRestOptions
{
    /// <summary>Server root without user-info or trailing slash, e.g. http://host:5000 or https://host/mlflow.</summary>
    public required string BaseUri { get; init; }
    public string? Token { get; init; }
    public string? Username { get; init; }
    public string? Password { get; init; }
    public bool InsecureTls { get; init; }
    /// <summary>Retries after the first attempt, on connection errors, timeouts, 429 and 5xx.</summary>
    public int MaxRetries { get; init; } = 5;
    /// <summary>First retry delay; each further retry doubles it, up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(120);
    /// <summary>Warnings (already scrubbed). Default: standard error.</summary>
    public Action<string> Log { get; init; } = message => Console.Error.WriteLine(message);

    /// <summary>Masks the token, the password, "user:password" and its Basic-auth base64 form.</summary>
    public CredentialScrubber Scrubber => new(Token, Password,
        Password is not null ? Username + ":" + Password : null,
        Password is not null ? Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(Username + ":" + Password)) : null);

    public static MlflowRestOptions FromEnvironment(string trackingUri) => FromVariables(trackingUri, Environment.GetEnvironmentVariable);

    public static MlflowRestOptions FromVariables(string trackingUri, Func<string, string?> env)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(trackingUri);
        trackingUri = trackingUri.Trim();
        if (!Uri.TryCreate(trackingUri, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new ArgumentException($"Not an http(s) tracking URI: '{CredentialScrubber.StripUserInfo(trackingUri)}'.", nameof(trackingUri));
        string? token = NonEmpty(env("MLFLOW_TRACKING_TOKEN"));
        string? user = NonEmpty(env("MLFLOW_TRACKING_USERNAME"));
        string? password = NonEmpty(env("MLFLOW_TRACKING_PASSWORD"));
        if (user is null && password is null && uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            user = Uri.UnescapeDataString(parts[0]);
            password = parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : "";
        }
        var baseUri = CredentialScrubber.StripUserInfo(trackingUri).TrimEnd('/');
        var options = new MlflowRestOptions
        {
            BaseUri = baseUri,
            Token = token,
            Username = user,
            Password = password,
            InsecureTls = IsTrue(env("MLFLOW_TRACKING_INSECURE_TLS")),
        };
        if (int.TryParse(env("MLFLOW_HTTP_REQUEST_MAX_RETRIES"), NumberStyles.None, CultureInfo.InvariantCulture, out var retries))
            options = options with { MaxRetries = retries };
        if (double.TryParse(env("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"), NumberStyles.Float, CultureInfo.InvariantCulture, out var backoff) && backoff >= 0)
            options = options with { InitialBackoff = TimeSpan.FromSeconds(backoff) };
        if (double.TryParse(env("MLFLOW_HTTP_REQUEST_TIMEOUT"), NumberStyles.Float, CultureInfo.InvariantCulture, out var timeout) && timeout > 0)
            options = options with { Timeout = TimeSpan.FromSeconds(timeout) };
        return options;
    }

    /// <summary>"http_host_5000": a folder name per server, holding no credentials.</summary>
    public static string FolderName(string baseUri)
    {
        var clean = CredentialScrubber.StripUserInfo(baseUri).TrimEnd('/');
        var chars = clean.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '_').ToArray();
        return new string(chars).Replace("___", "_");
    }

    private static string? NonEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    // MLflow's _BooleanEnvironmentVariable accepts true/false/1/0 (case-insensitive).
    private static bool IsTrue(string? s) => s is not null && (s.Trim().Equals("true", StringComparison.OrdinalIgnoreCase) || s.Trim() == "1");
}
