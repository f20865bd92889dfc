using HappyWhale.Experiments;

namespace HappyWhale.Tracking;

/// <summary>
/// Removes credentials from text before it is printed, thrown, written to the journal or sent: the configured token,
/// username/password, and any "scheme://user:pass@host" user-info in URIs.
/// </summary>
public sealed class CredentialScrubber
{
    public const string Mask = UriCredentials.Mask;
    private readonly string[] _secrets;

    public CredentialScrubber(params string?[] secrets) =>
        // Longest first, so a secret containing another is masked whole. Very short strings are not masked
        // (a one-letter password would mangle every message); the user-info rule still catches them in URIs.
        _secrets = secrets.Where(s => !string.IsNullOrEmpty(s) && s.Length >= 3).Distinct().OrderByDescending(s => s!.Length).ToArray()!;

    /// <summary>MLflow's credential variables and the password of any tracking URI given, for runs that talk to no server.</summary>
    public static CredentialScrubber FromEnvironment() => FromVariables(null, Environment.GetEnvironmentVariable);

    public static CredentialScrubber FromVariables(string? trackingUri, Func<string, string?> env) => new(
        env("MLFLOW_TRACKING_TOKEN"), env("MLFLOW_TRACKING_PASSWORD"), PasswordOf(trackingUri), PasswordOf(env("MLFLOW_TRACKING_URI")));

    public string Scrub(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text ?? "";
        var result = UriCredentials.Masked(text);
        foreach (var secret in _secrets)
        {
            result = result.Replace(secret, Mask, StringComparison.Ordinal);
            // Also the percent-encoded form, as it would appear inside a URI.
            var escaped = Uri.EscapeDataString(secret);
            if (escaped != secret) result = result.Replace(escaped, Mask, StringComparison.Ordinal);
        }
        return result;
    }

    /// <summary>A URI with any user-info removed (for display and as an identity that holds no secret).</summary>
    public static string StripUserInfo(string uri) => UriCredentials.Stripped(uri);

    private static string? PasswordOf(string? uri) =>
        Uri.TryCreate(uri?.Trim() ?? "", UriKind.Absolute, out var u) && u.UserInfo.Split(':', 2) is [_, var password]
            ? Uri.UnescapeDataString(password) : null;
}
