using System.Text.Json.Nodes;
using HappyWhale.Experiments;

namespace HappyWhale.Pipeline;

/// <summary>
/// Everything a stage's output depends on. The cache key scheme lives here and nowhere else:
/// SHA-256 of the canonical JSON of {stage, version, parameters, input stage keys, external
/// file fingerprints}. Two requests with the same key must produce interchangeable outputs.
/// </summary>
public sealed record StageRequest(
    string Stage,
    int Version,
    JsonNode Parameters,
    IReadOnlyDictionary<string, string> Inputs,
    IReadOnlyDictionary<string, string> Fingerprints)
{
    public string Key => CanonicalJson.Sha256Hex(KeyDocument());

    /// <summary>The exact document hashed into <see cref="Key"/>; also recorded in the manifest.</summary>
    public JsonObject KeyDocument() => new()
    {
        ["stage"] = Stage,
        ["version"] = Version,
        ["parameters"] = Parameters.DeepClone(),
        ["inputs"] = ToJson(Inputs),
        ["fingerprints"] = ToJson(Fingerprints),
    };

    /// <summary>True when this request names <paramref name="key"/> among its inputs or fingerprints (a synthetic source's fingerprint carries the synth key).</summary>
    public bool References(string key) => Inputs.Values.Concat(Fingerprints.Values).Any(v => v.Contains(key, StringComparison.Ordinal));

    static JsonObject ToJson(IReadOnlyDictionary<string, string> map)
    {
        var o = new JsonObject();
        foreach (var (k, v) in map.OrderBy(p => p.Key, StringComparer.Ordinal)) o[k] = v;
        return o;
    }
}
