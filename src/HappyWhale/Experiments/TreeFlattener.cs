using System.Text.Json;
using System.Text.Json.Nodes;

namespace HappyWhale.Experiments;

/// <summary>Dotted keys to text values (train.phases.0.epochs -> "3"): the shape MLflow params and diffs want.</summary>
internal static class TreeFlattener
{
    public static OrderedDictionary<string, string> Flatten(JsonNode? root)
    {
        var result = new OrderedDictionary<string, string>(StringComparer.Ordinal);
        Walk(root, "", result);
        return result;
    }

    private static void Walk(JsonNode? node, string path, OrderedDictionary<string, string> result)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, child) in obj) Walk(child, SchemaFromDefaults.Join(path, key), result);
                break;
            case JsonArray { Count: 0 }:
                result[path] = "[]";   // an empty list (evaluate.models: []) is a value too, for diffs and MLflow
                break;
            case JsonArray array:
                for (int i = 0; i < array.Count; i++) Walk(array[i], SchemaFromDefaults.Join(path, i.ToString(System.Globalization.CultureInfo.InvariantCulture)), result);
                break;
            default:
                result[path] = Text(node);
                break;
        }
    }

    /// <summary>Invariant text of a scalar; numbers use the canonical form so 1e-3 and 0.001 print alike.</summary>
    public static string Text(JsonNode? node) => node switch
    {
        null => "null",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => CanonicalJson.Number(v.ToJsonString()),
        _ => node.ToJsonString(),
    };
}
