using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace HappyWhale.Experiments;

/// <summary>
/// Reads experiments/defaults.yaml into an <see cref="ExperimentSchema"/>. The file is the schema by
/// example: each key's default gives its type, and the key's trailing comment may start with a rule
/// ({a|b} choices, [lo, hi] range, &lt;type?&gt; for null defaults, &lt;string[]&gt; for an empty list of strings)
/// followed by a one-line description.
/// </summary>
public static partial class SchemaFromDefaults
{
    public static ExperimentSchema Load(string defaultsPath) => LoadWithTree(defaultsPath).Schema;

    /// <summary>The schema and the parsed defaults tree, which the loader lays under every experiment.</summary>
    internal static (ExperimentSchema Schema, SourceMap Tree) LoadWithTree(string defaultsPath)
    {
        var full = Path.GetFullPath(defaultsPath);
        var label = DisplayPath.Of(full);
        if (!File.Exists(full))
            throw new ExperimentException(new ExperimentError(label, 0, 0, "defaults file not found"));
        var doc = SourceTreeReader.ReadFile(full, label);
        var errors = new List<ExperimentError>(doc.Errors);
        if (doc.Root is not SourceMap root)
        {
            if (errors.Count == 0) errors.Add(new(label, 1, 1, "defaults.yaml must be a map of keys"));
            throw new ExperimentException(errors);
        }
        var schema = new Builder(doc.Comments, errors).FromMap("", root, root.At, "");
        if (errors.Count > 0) throw new ExperimentException(errors);
        return (new ExperimentSchema(schema, full), root);
    }

    [GeneratedRegex(@"^\{([^}]*)\}\s*(.*)$")]
    private static partial Regex ChoicesRule();

    [GeneratedRegex(@"^\[\s*([^,\]]+?)\s*,\s*([^\]]+?)\s*\]\s*(.*)$")]
    private static partial Regex RangeRule();

    [GeneratedRegex(@"^<\s*(\w+(?:\[\])?)\s*(\?)?\s*>\s*(.*)$")]
    private static partial Regex TypeRule();

    /// <summary>The parsed leading rule of a comment; every part is optional.</summary>
    private sealed record Rule(string Description, IReadOnlyList<string>? Choices = null,
        (double, double)? Range = null, SchemaType? Type = null, bool Nullable = false);

    private static Rule ParseRule(string comment, SourcePosition at, List<ExperimentError> errors)
    {
        if (ChoicesRule().Match(comment) is { Success: true } c)
            return new(c.Groups[2].Value, Choices: c.Groups[1].Value.Split('|').Select(s => s.Trim()).ToArray());
        if (RangeRule().Match(comment) is { Success: true } r)
        {
            if (YamlScalars.TryFloat(r.Groups[1].Value, out var lo) && YamlScalars.TryFloat(r.Groups[2].Value, out var hi) && lo <= hi)
                return new(r.Groups[3].Value, Range: (lo, hi));
            errors.Add(new(at, $"range rule '{comment}' needs two numbers, low <= high"));
            return new(comment);
        }
        if (TypeRule().Match(comment) is { Success: true } t)
        {
            SchemaType? type = t.Groups[1].Value switch
            {
                "string" => SchemaType.String, "int" => SchemaType.Int,
                "float" => SchemaType.Float, "bool" => SchemaType.Bool, "string[]" => SchemaType.ListOfStrings, _ => null,
            };
            if (type is null) errors.Add(new(at, $"unknown type '<{t.Groups[1].Value}>'; use string, int, float, bool or string[]"));
            return new(t.Groups[3].Value, Type: type, Nullable: t.Groups[2].Success);
        }
        return new(comment);
    }

    private sealed class Builder(IReadOnlyList<SourceComment> comments, List<ExperimentError> errors)
    {
        // Only a comment on the key's own line belongs to the key; full-line comments are prose.
        private readonly Dictionary<int, string> _commentByLine = comments
            .GroupBy(c => c.Line).ToDictionary(g => g.Key, g => g.First().Text);

        public SchemaNode FromMap(string path, SourceMap map, SourcePosition at, string description)
        {
            var children = new List<KeyValuePair<string, SchemaNode>>();
            var defaults = new JsonObject();
            foreach (var (key, value) in map.Entries)
            {
                var child = FromEntry(Join(path, key.Value), key.At, value);
                children.Add(new(key.Value, child));
                defaults[key.Value] = child.Default?.DeepClone();
            }
            return new SchemaNode
            {
                Path = path, Type = SchemaType.Map, Children = children, Default = defaults,
                Description = description, DeclaredAt = at,
            };
        }

        private SchemaNode FromEntry(string path, SourcePosition keyAt, SourceNode value)
        {
            var comment = _commentByLine.GetValueOrDefault(keyAt.Line, "");
            var rule = ParseRule(comment, keyAt, errors);
            switch (value)
            {
                case SourceMap map:
                    return FromMap(path, map, keyAt, rule.Description);
                case SourceList list when rule.Type == SchemaType.ListOfStrings || (list.Items.Count > 0 && list.Items.All(i => i is SourceScalar)):
                    return FromStringList(path, list, keyAt, rule);
                case SourceList list:
                    return FromList(path, list, keyAt, rule.Description);
                default:
                    if (rule.Type == SchemaType.ListOfStrings)
                    {
                        errors.Add(new(keyAt, $"{path}: <string[]> needs a list default, e.g. []"));
                        return new SchemaNode { Path = path, Type = SchemaType.ListOfStrings, DeclaredAt = keyAt, Default = new JsonArray() };
                    }
                    return FromScalar(path, (SourceScalar)value, keyAt, rule);
            }
        }

        private SchemaNode FromList(string path, SourceList list, SourcePosition at, string description)
        {
            if (list.Items.Count == 0 || list.Items[0] is not SourceMap first)
            {
                errors.Add(new(list.At, $"{path}: a list default must hold at least one map; its first element is the element schema"));
                return new SchemaNode { Path = path, Type = SchemaType.ListOfMaps, DeclaredAt = at, Default = new JsonArray() };
            }
            var element = FromMap(path, first, first.At, "");
            var defaults = new JsonArray();
            foreach (var item in list.Items)
            {
                if (item is not SourceMap m) { errors.Add(new(item.At, $"{path}: every element must be a map")); continue; }
                var filled = (JsonObject)element.Default!.DeepClone();
                foreach (var (key, v) in m.Entries)
                {
                    var keySchema = element.Child(key.Value);
                    if (keySchema is null) errors.Add(new(key.At, $"{path}: key '{key.Value}' is not in the first element, which defines the element schema"));
                    else if (v is SourceScalar s && !s.IsNull && ScalarValues.TryConvert(s, keySchema.Type, out var json)) filled[key.Value] = json;
                }
                defaults.Add(filled);
            }
            return new SchemaNode
            {
                Path = path, Type = SchemaType.ListOfMaps, Element = element, Default = defaults,
                Description = description, DeclaredAt = at,
            };
        }

        /// <summary>A list of words: `[]` with a &lt;string[]&gt; rule, or a list of scalars (each read as a string).</summary>
        private SchemaNode FromStringList(string path, SourceList list, SourcePosition at, Rule rule)
        {
            if (rule.Nullable) errors.Add(new(at, $"{path}: a list of strings cannot be null; use [] for none"));
            var defaults = new JsonArray();
            foreach (var item in list.Items)
            {
                if (item is SourceScalar { IsNull: false } s) defaults.Add(JsonValue.Create(s.Value));
                else errors.Add(new(item.At, $"{path}: every element of a list of strings must be a word, not {item.Describe()}"));
            }
            return new SchemaNode
            {
                Path = path, Type = SchemaType.ListOfStrings, Default = defaults, Description = rule.Description, DeclaredAt = at,
            };
        }

        private SchemaNode FromScalar(string path, SourceScalar scalar, SourcePosition at, Rule rule)
        {
            SchemaType type;
            if (rule.Type is { } declared) type = declared;
            else if (scalar.IsNull)
            {
                errors.Add(new(at, $"{path}: a null default needs a <type> or <type?> rule in its comment"));
                type = SchemaType.String;
            }
            else type = rule.Choices is not null ? SchemaType.String : ScalarValues.Infer(scalar);

            JsonNode? value = null;
            if (scalar.IsNull)
            {
                if (rule.Type is not null && !rule.Nullable)
                    errors.Add(new(scalar.At, $"{path}: the default is null but <{type.ToString().ToLowerInvariant()}> has no '?'"));
            }
            else if (!ScalarValues.TryConvert(scalar, type, out value))
                errors.Add(new(scalar.At, $"{path}: default {scalar.Describe()} is not {type.ToString().ToLowerInvariant()}"));

            if (rule.Range is not null && type is not (SchemaType.Int or SchemaType.Float))
                errors.Add(new(at, $"{path}: a [lo, hi] range only applies to numbers"));
            if (rule.Range is { } range && value is not null && type is SchemaType.Int or SchemaType.Float)
            {
                var (lo, hi) = range;
                var d = ScalarValues.AsDouble(value);
                if (d < lo || d > hi) errors.Add(new(scalar.At, $"{path}: default {scalar.Value} is outside its range [{Fmt(lo)}, {Fmt(hi)}]"));
            }
            if (rule.Choices is { } choices && value is not null && !choices.Contains(scalar.Value))
                errors.Add(new(scalar.At, $"{path}: default '{scalar.Value}' is not one of {string.Join("|", choices)}"));

            return new SchemaNode
            {
                Path = path, Type = type, Nullable = rule.Nullable, Choices = rule.Choices, Range = rule.Range,
                Default = value, Description = rule.Description, DeclaredAt = at,
            };
        }
    }

    internal static string Join(string path, string key) => path.Length == 0 ? key : path + "." + key;

    internal static string Fmt(double d) => d.ToString("R", CultureInfo.InvariantCulture);
}
