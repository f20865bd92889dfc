using System.Text.Json.Nodes;

namespace HappyWhale.Experiments;

/// <summary>Turns a YAML scalar into the JSON value its schema type asks for.</summary>
internal static class ScalarValues
{
    /// <summary>False when the scalar cannot be read as <paramref name="type"/>. Null scalars are the caller's concern.</summary>
    public static bool TryConvert(SourceScalar scalar, SchemaType type, out JsonNode? value)
    {
        value = null;
        switch (type)
        {
            // Any written text is a fine string, even "42": the key's type says what the author meant.
            case SchemaType.String:
                value = JsonValue.Create(scalar.Value);
                return true;
            case SchemaType.Int when scalar.IsPlain && YamlScalars.TryInt(scalar.Value, out long i):
                value = JsonValue.Create(i);
                return true;
            case SchemaType.Float when scalar.IsPlain && YamlScalars.TryFloat(scalar.Value, out double d):
                value = JsonValue.Create(d);
                return true;
            case SchemaType.Bool when scalar.IsPlain && YamlScalars.TryBool(scalar.Value, out bool b):
                value = JsonValue.Create(b);
                return true;
            default:
                return false;
        }
    }

    /// <summary>The scalar type a plain default implies; quoted defaults are strings.</summary>
    public static SchemaType Infer(SourceScalar scalar)
    {
        if (!scalar.IsPlain) return SchemaType.String;
        if (YamlScalars.TryBool(scalar.Value, out _)) return SchemaType.Bool;
        if (YamlScalars.TryInt(scalar.Value, out _)) return SchemaType.Int;
        if (YamlScalars.TryFloat(scalar.Value, out _)) return SchemaType.Float;
        return SchemaType.String;
    }

    public static double AsDouble(JsonNode value) =>
        value.GetValueKind() == System.Text.Json.JsonValueKind.Number && value is JsonValue v && v.TryGetValue(out long l)
            ? l
            : value.GetValue<double>();
}
