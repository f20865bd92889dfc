using System.Text.Json.Nodes;

namespace HappyWhale.Experiments;

/// <summary>
/// Turns a validated tree into JSON with every schema key present, in defaults.yaml order whatever
/// order the files used: that makes the tree canonical, so equal experiments hash and print alike.
/// </summary>
internal static class ResolvedTreeBuilder
{
    public static JsonObject Build(SourceMap map, SchemaNode schema)
    {
        var result = new JsonObject();
        foreach (var (name, child) in schema.Children)
            result[name] = map.TryGet(name, out var node) ? Value(node, child) : child.Default?.DeepClone();
        return result;
    }

    private static JsonNode? Value(SourceNode node, SchemaNode schema) => schema.Type switch
    {
        SchemaType.Map => Build((SourceMap)node, schema),
        // Each element starts from the element defaults, so a phase may give only what differs.
        SchemaType.ListOfMaps => new JsonArray(((SourceList)node).Items
            .Select(item => (JsonNode?)Build((SourceMap)item, schema.Element!)).ToArray()),
        SchemaType.ListOfStrings => new JsonArray(((SourceList)node).Items
            .Select(item => (JsonNode?)JsonValue.Create(((SourceScalar)item).Value)).ToArray()),
        _ => Scalar((SourceScalar)node, schema.Type),
    };

    private static JsonNode? Scalar(SourceScalar scalar, SchemaType type)
    {
        if (scalar.IsNull) return null;
        if (!ScalarValues.TryConvert(scalar, type, out var value))
            throw new InvalidOperationException($"{scalar.At}: unvalidated value reached the tree builder");
        return value;
    }
}
