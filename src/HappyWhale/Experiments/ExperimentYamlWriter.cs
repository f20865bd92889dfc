using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace HappyWhale.Experiments;

/// <summary>
/// Writes a resolved experiment tree as block YAML that the loader reads back to the same tree:
/// floats keep a decimal point so they stay floats, and strings that would read as another type are quoted.
/// </summary>
internal static class ExperimentYamlWriter
{
    private static readonly JsonSerializerOptions QuoteOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Write(JsonObject tree, string? header = null)
    {
        var sb = new StringBuilder();
        if (header is not null)
            foreach (var line in header.Split('\n')) sb.Append("# ").Append(line.TrimEnd()).Append('\n');
        foreach (var line in MapLines(tree, 0)) sb.Append(line).Append('\n');
        return sb.ToString();
    }

    private static IEnumerable<string> MapLines(JsonObject map, int indent)
    {
        var pad = new string(' ', indent);
        foreach (var (key, value) in map)
        {
            switch (value)
            {
                case JsonObject { Count: > 0 } child:
                    yield return $"{pad}{key}:";
                    foreach (var line in MapLines(child, indent + 2)) yield return line;
                    break;
                case JsonArray { Count: > 0 } list:
                    yield return $"{pad}{key}:";
                    foreach (var line in ListLines(list, indent + 2)) yield return line;
                    break;
                default:
                    yield return $"{pad}{key}: {Scalar(value)}";
                    break;
            }
        }
    }

    private static IEnumerable<string> ListLines(JsonArray list, int indent)
    {
        var dash = new string(' ', indent) + "- ";
        foreach (var item in list)
        {
            if (item is JsonObject { Count: > 0 } map)
            {
                // The element's keys sit two columns right of the dash; the first shares the dash's line.
                var lines = MapLines(map, indent + 2).ToList();
                yield return dash + lines[0].TrimStart();
                foreach (var line in lines.Skip(1)) yield return line;
            }
            else yield return dash + Scalar(item);
        }
    }

    private static string Scalar(JsonNode? node)
    {
        switch (node)
        {
            case null: return "null";
            case JsonObject: return "{}";
            case JsonArray: return "[]";
        }
        var value = (JsonValue)node;
        switch (value.GetValueKind())
        {
            case JsonValueKind.True: return "true";
            case JsonValueKind.False: return "false";
            case JsonValueKind.String: return Text(value.GetValue<string>());
        }
        if (value.TryGetValue(out double d) && !value.TryGetValue(out long _))
        {
            var text = d.ToString("R", CultureInfo.InvariantCulture);
            return text.Contains('.') || text.Contains('E') ? text : text + ".0";
        }
        return CanonicalJson.Number(value.ToJsonString());
    }

    // YAML 1.1 readers (PyYAML, older tools) take these for booleans; quoting keeps the file portable.
    private static readonly HashSet<string> Yaml11Booleans = new(StringComparer.OrdinalIgnoreCase) { "y", "n", "yes", "no", "on", "off" };

    private static string Text(string s) => NeedsQuotes(s) ? JsonSerializer.Serialize(s, QuoteOptions) : s;

    private static bool NeedsQuotes(string s) =>
        s.Length == 0
        || YamlScalars.LooksTyped(s)
        || Yaml11Booleans.Contains(s)
        || s != s.Trim()
        || "-?:,[]{}#&*!|>'\"%@`".Contains(s[0])
        || s.Contains(": ") || s.Contains(" #") || s.EndsWith(':')
        || s.Any(char.IsControl);
}
