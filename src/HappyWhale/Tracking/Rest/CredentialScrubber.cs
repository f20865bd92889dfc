using System.Text.RegularExpressions;

namespace HappyWhale.Tracking;

/// <summary>
/// Removes credentials from text before it is printed, thrown, logged to MLflow or spooled: the configured token,
/// username/password, and any "scheme://user:pass@host" user-info in URIs.
/// </summary>
public sealed partial class CredentialScrubber
{
    public const string Mask = "***";
    private readonly string[] _secrets;

    public CredentialScrubber(params string?[] secrets) =>
        // Longest first, so a secret containing another is masked whole. Very short strings are not masked
        // (a one-letter password would mangle every message); the user-info rule still catches them in URIs.
        _secrets = secrets.Where(s => !string.IsNullOrEmpty(s) && s.Length >= 3).Distinct().OrderByDescending(s => s!.Length).ToArray()!;

    [GeneratedRegex(@"(?<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?<userinfo>[^/@\s?#]*)@")]
    private static partial Regex UserInfo();

    public string Scrub(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text ?? "";
        var result = UserInfo().Replace(text, m => m.Groups["scheme"].Value + Mask + "@");
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
    public static string StripUserInfo(string uri) => UserInfo().Replace(uri, m => m.Groups["scheme"].Value);
}
