using System.Text.Json.Nodes;

namespace HappyWhale.Experiments;

public enum SchemaType { String, Int, Float, Bool, Map, ListOfMaps, ListOfStrings }

/// <summary>
/// What one key of defaults.yaml allows. Maps carry their children in file order; a list of maps
/// carries the schema of one element, whose keys are all optional in user files; a list of strings
/// (declared by a list-of-words default or, when the default is empty, a &lt;string[]&gt; rule) may be empty.
/// </summary>
public sealed class SchemaNode
{
    public required string Path { get; init; }
    public required SchemaType Type { get; init; }
    public bool Nullable { get; init; }
    public IReadOnlyList<string>? Choices { get; init; }
    public (double Low, double High)? Range { get; init; }
    public JsonNode? Default { get; init; }
    public string Description { get; init; } = "";
    public SourcePosition DeclaredAt { get; init; }

    /// <summary>Children of a map, in defaults.yaml order; empty for other types.</summary>
    public IReadOnlyList<KeyValuePair<string, SchemaNode>> Children { get; init; } = [];

    /// <summary>The element schema of a list of maps; null for other types.</summary>
    public SchemaNode? Element { get; init; }

    public SchemaNode? Child(string key)
    {
        foreach (var (name, node) in Children) if (name == key) return node;
        return null;
    }

    /// <summary>The name users see in messages: "int", "float?", "one of a|b".</summary>
    public string TypeName => Type switch
    {
        SchemaType.Map => "a map",
        SchemaType.ListOfMaps => "a list of maps",
        SchemaType.ListOfStrings => "a list of strings",
        SchemaType.String when Choices is not null => "one of " + string.Join("|", Choices),
        _ => Type.ToString().ToLowerInvariant(),
    } + (Nullable ? " or null" : "");
}

/// <summary>The whole schema: the root map of defaults.yaml and the file it came from.</summary>
public sealed class ExperimentSchema(SchemaNode root, string defaultsPath)
{
    public SchemaNode Root { get; } = root;
    public string DefaultsPath { get; } = defaultsPath;

    /// <summary>Looks up a dotted key ("train.phases.0.epochs" or "train.phases.epochs"); null if unknown.</summary>
    public SchemaNode? Find(string dottedPath)
    {
        SchemaNode? node = Root;
        foreach (var part in dottedPath.Split('.'))
        {
            if (node is { Type: SchemaType.ListOfMaps } && int.TryParse(part, out _)) continue;
            if (node is { Type: SchemaType.ListOfStrings } && int.TryParse(part, out _)) return node;
            if (node is { Type: SchemaType.ListOfMaps }) node = node.Element;
            node = node?.Child(part);
            if (node is null) return null;
        }
        return node;
    }
}
