namespace HappyWhale.Experiments;

/// <summary>
/// Checks a merged tree against the schema and records every problem, each at the node to fix, so
/// one run lists all mistakes. Keys may be missing (defaults fill them); unknown keys may not.
/// </summary>
internal static class ExperimentValidator
{
    public static void Validate(SourceMap root, SchemaNode schema, List<ExperimentError> errors) =>
        CheckMap(root, schema, "", errors);

    private static void CheckMap(SourceMap map, SchemaNode schema, string path, List<ExperimentError> errors)
    {
        foreach (var (key, value) in map.Entries)
        {
            var keyPath = SchemaFromDefaults.Join(path, key.Value);
            var child = schema.Child(key.Value);
            if (child is null) errors.Add(new(key.At, UnknownKey(keyPath, key.Value, path, schema)));
            else Check(value, child, keyPath, errors);
        }
    }

    private static string UnknownKey(string keyPath, string key, string parentPath, SchemaNode parent)
    {
        var siblings = parent.Children.Select(c => c.Key).ToList();
        var nearest = EditDistance.Nearest(key, siblings);
        if (nearest is not null) return $"unknown key '{keyPath}'; did you mean {SchemaFromDefaults.Join(parentPath, nearest)}?";
        // A per-element key set on the list's parent (train.lr for train.phases.*.lr) is a likely slip.
        var list = parent.Children.FirstOrDefault(c => c.Value.Element?.Child(key) is not null);
        if (list.Value is not null)
            return $"unknown key '{keyPath}'; did you mean {SchemaFromDefaults.Join(parentPath, list.Key)}.0.{key}? ({key} is set per element of {list.Value.Path})";
        var where = parentPath.Length == 0 ? "at the top level" : "under " + parentPath;
        return $"unknown key '{keyPath}'; valid keys {where}: {string.Join(", ", siblings)}";
    }

    private static void Check(SourceNode node, SchemaNode schema, string path, List<ExperimentError> errors)
    {
        switch (schema.Type)
        {
            case SchemaType.Map when node is SourceMap map:
                CheckMap(map, schema, path, errors);
                break;
            case SchemaType.ListOfMaps when node is SourceList list:
                if (list.Items.Count == 0) errors.Add(new(list.At, $"{path} needs at least one element"));
                for (int i = 0; i < list.Items.Count; i++)
                {
                    if (list.Items[i] is SourceMap element) CheckMap(element, schema.Element!, $"{path}.{i}", errors);
                    else errors.Add(new(list.Items[i].At, $"{path}.{i} must be a map of keys, not {list.Items[i].Describe()}"));
                }
                break;
            case SchemaType.ListOfScalars when node is SourceList list:
                for (int i = 0; i < list.Items.Count; i++) CheckScalar(list.Items[i], schema.Element!, $"{path}.{i}", errors);
                break;
            case SchemaType.Map or SchemaType.ListOfMaps or SchemaType.ListOfScalars:
                errors.Add(new(node.At, $"{path} must be {schema.TypeName}, not {node.Describe()}"));
                break;
            default:
                CheckScalar(node, schema, path, errors);
                break;
        }
    }

    private static void CheckScalar(SourceNode node, SchemaNode schema, string path, List<ExperimentError> errors)
    {
        if (node is not SourceScalar scalar)
        {
            errors.Add(new(node.At, $"{path} must be {schema.TypeName}, not {node.Describe()}"));
            return;
        }
        if (scalar.IsNull)
        {
            if (!schema.Nullable) errors.Add(new(node.At, $"{path} must be {schema.TypeName}, not null"));
            return;
        }
        if (!ScalarValues.TryConvert(scalar, schema.Type, out var value))
        {
            errors.Add(new(node.At, $"{path} must be {schema.TypeName}, not {scalar.Describe()}"));
            return;
        }
        if (schema.Choices is { } choices && !choices.Any(c => ChoiceMatches(c, scalar.Value)))
        {
            var nearest = EditDistance.Nearest(scalar.Value, choices);
            var hint = nearest is null ? "" : $"; did you mean {nearest}?";
            errors.Add(new(node.At, $"{path} must be one of {string.Join("|", choices)}, not '{scalar.Value}'{hint}"));
        }
        if (schema.Range is { } range && value is not null)
        {
            var number = ScalarValues.AsDouble(value);
            if (number < range.Low || number > range.High)
                errors.Add(new(node.At, $"{path} = {scalar.Value} is out of range [{SchemaFromDefaults.Fmt(range.Low)}, {SchemaFromDefaults.Fmt(range.High)}]"));
        }
    }

    /// <summary>A choice ending in ":N" (cuda:N) stands for that prefix and any whole number.</summary>
    private static bool ChoiceMatches(string choice, string value) =>
        choice == value
        || (choice.EndsWith(":N", StringComparison.Ordinal) && value.Length > choice.Length - 1
            && value.StartsWith(choice[..^1], StringComparison.Ordinal) && value[(choice.Length - 1)..].All(char.IsAsciiDigit));
}
