using System.Text.Json.Nodes;

namespace HappyWhale.Pipeline;

/// <summary>
/// Keys added after experiments had been cached (issue 13's holdout, episodes and recipe keys). A stage request
/// carries one only when it is away from its "off" value, so an experiment that does not use it keeps the cache
/// keys it always had, and one that does gets new keys exactly in the stages that read it.
/// </summary>
public static class OptionalKeys
{
    /// <summary>Dotted path inside a section, and whether the value there means "off" (then the key is left out).</summary>
    sealed record OptionalKey(string Path, Func<JsonNode?, bool> IsOff);

    // The tree holds typed primitives (an int is not read back as a double), so values are compared as JSON text.
    static bool Zero(JsonNode? n) => n is JsonValue && double.TryParse(n.ToJsonString(), System.Globalization.NumberStyles.Float,
        System.Globalization.CultureInfo.InvariantCulture, out double d) && d == 0;
    static bool Empty(JsonNode? n) => n is JsonArray { Count: 0 } or null;
    static bool Is(JsonNode? n, string text) => n is JsonValue v && v.TryGetValue<string>(out var s) && s == text;
    static bool True(JsonNode? n) => n is JsonValue && n.ToJsonString() == "true";

    static readonly IReadOnlyDictionary<string, OptionalKey[]> BySection = new Dictionary<string, OptionalKey[]>
    {
        ["prepare"] = [new("resample", n => Is(n, "bicubic"))],
        ["data"] = [new("holdout_species", Empty), new("validation_fold", True)],
        ["model"] = [new("head.margin_warmup", Zero), new("input_norm", n => Is(n, "imagenet"))],
        ["train"] = [new("ema", Zero), new("augment.shear_deg", Zero), new("augment.fill", n => Is(n, "reflect")), new("memory_format", n => Is(n, "contiguous"))],
        ["evaluate"] = [new("episodes", n => Zero(n?["episodes"])), new("tta_shift", Zero), new("feature", n => Is(n, "embedding"))],
    };

    /// <summary>Removes from <paramref name="section"/> (a copy of the experiment's section <paramref name="name"/>) the optional keys that are off.</summary>
    public static JsonObject Strip(string name, JsonObject section)
    {
        foreach (var key in BySection.GetValueOrDefault(name, []))
        {
            var parts = key.Path.Split('.');
            JsonObject? parent = section;
            for (int i = 0; i < parts.Length - 1 && parent is not null; i++) parent = parent[parts[i]] as JsonObject;
            if (parent is not null && parent.ContainsKey(parts[^1]) && key.IsOff(parent[parts[^1]])) parent.Remove(parts[^1]);
        }
        return section;
    }

    /// <summary>The data keys added for issue 13 that decide which images train, as they enter split parameters (only when on).</summary>
    public static IEnumerable<string> SplitKeys => ["holdout_species", "validation_fold"];
}
