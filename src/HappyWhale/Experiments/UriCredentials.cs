using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace HappyWhale.Experiments;

/// <summary>
/// The user-info of "scheme://user:password@host" URIs: masked wherever an experiment leaves the process
/// (resolved.yaml, MLflow params, `show`), so a password given in tracking.uri is never written down.
/// </summary>
public static partial class UriCredentials
{
    public const string Mask = "***";

    [GeneratedRegex(@"(?<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?<userinfo>[^/@\s?#]*)@")]
    private static partial Regex UserInfo();

    /// <summary>Every "scheme://userinfo@" in <paramref name="text"/> becomes "scheme://***@".</summary>
    public static string Masked(string text) => UserInfo().Replace(text, m => m.Groups["scheme"].Value + Mask + "@");

    /// <summary>The URI without its user-info (an identity that holds no secret).</summary>
    public static string Stripped(string uri) => UserInfo().Replace(uri, m => m.Groups["scheme"].Value);

    /// <summary>A copy of the tree with every string value masked.</summary>
    public static JsonNode? MaskedTree(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.Select(kv => KeyValuePair.Create(kv.Key, MaskedTree(kv.Value)))),
        JsonArray a => new JsonArray(a.Select(MaskedTree).ToArray()),
        JsonValue v when v.GetValueKind() == JsonValueKind.String => JsonValue.Create(Masked(v.GetValue<string>())),
        _ => node?.DeepClone(),
    };
}
