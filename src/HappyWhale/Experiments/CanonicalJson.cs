using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace HappyWhale.Experiments;

/// <summary>
/// One byte sequence per JSON value, for cache keys: object keys sorted ordinally, no whitespace,
/// numbers written by value (0.001, 1e-3 and 1.0E-3 agree; 3 and 3.0 agree) in invariant culture.
/// </summary>
public static partial class CanonicalJson
{
    // Escape only what JSON requires, so keys and strings stay readable in logs and cache manifests.
    private static readonly JsonSerializerOptions StringOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Serialize(JsonNode? node)
    {
        var sb = new StringBuilder();
        Write(node, sb);
        return sb.ToString();
    }

    /// <summary>Lower-case hex SHA-256 of the UTF-8 canonical form.</summary>
    public static string Sha256Hex(JsonNode? node) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Serialize(node))));

    private static void Write(JsonNode? node, StringBuilder sb)
    {
        switch (node)
        {
            case null:
                sb.Append("null");
                break;
            case JsonObject obj:
                sb.Append('{');
                bool first = true;
                foreach (var (key, value) in obj.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (!first) sb.Append(',');
                    first = false;
                    sb.Append(JsonSerializer.Serialize(key, StringOptions)).Append(':');
                    Write(value, sb);
                }
                sb.Append('}');
                break;
            case JsonArray array:
                sb.Append('[');
                for (int i = 0; i < array.Count; i++)
                {
                    if (i > 0) sb.Append(',');
                    Write(array[i], sb);
                }
                sb.Append(']');
                break;
            case JsonValue value:
                sb.Append(Scalar(value));
                break;
        }
    }

    private static string Scalar(JsonValue value) => value.GetValueKind() switch
    {
        JsonValueKind.Number => Number(value.ToJsonString()),
        JsonValueKind.String => JsonSerializer.Serialize(value.GetValue<string>(), StringOptions),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => "null",
    };

    [GeneratedRegex(@"^-?[0-9]+$")]
    private static partial Regex IntegerText();

    /// <summary>
    /// The canonical text of a number given as JSON text. Going through the text treats every backing
    /// type (long, double, decimal, a parsed JsonElement) alike.
    /// </summary>
    internal static string Number(string jsonText)
    {
        if (IntegerText().IsMatch(jsonText) && long.TryParse(jsonText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l))
            return l.ToString(CultureInfo.InvariantCulture);
        double d = double.Parse(jsonText, NumberStyles.Float, CultureInfo.InvariantCulture);
        // Integral doubles below 2^53 are exact as integers, so write them like the integer they equal.
        if (Math.Abs(d) < 9007199254740992d && d == Math.Floor(d))
            return ((long)d).ToString(CultureInfo.InvariantCulture);
        return d.ToString("R", CultureInfo.InvariantCulture);
    }
}
