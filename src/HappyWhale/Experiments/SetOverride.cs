using System.Globalization;

namespace HappyWhale.Experiments;

/// <summary>
/// Applies one `--set a.b.c=value` argument to a tree. The value is read as YAML, so numbers,
/// booleans and flow lists like [{epochs: 2}] arrive typed; a numeric segment indexes a list.
/// Positions point into the text "--set a.b.c=value" so messages read like any other file's.
/// </summary>
internal static class SetOverride
{
    private const string Prefix = "--set ";

    /// <summary>The "file" name errors in this argument carry.</summary>
    public static string Label(string argument) => Prefix + argument;

    public static void Apply(SourceMap root, string argument, List<ExperimentError> errors)
    {
        var label = Label(argument);
        int eq = argument.IndexOf('=');
        if (eq <= 0)
        {
            errors.Add(new(label, 1, Prefix.Length + 1, "expected key=value, e.g. --set train.lr=3e-4"));
            return;
        }
        int valueColumn = Prefix.Length + eq + 1;
        var doc = SourceTreeReader.Read(new StringReader(argument[(eq + 1)..]), label, valueColumn);
        if (doc.Errors.Count > 0)
        {
            errors.AddRange(doc.Errors);
            return;
        }
        var value = doc.Root ?? new SourceScalar(new(label, 1, valueColumn + 1), "", isPlain: true);
        if (TrySegments(argument[..eq], new SourcePosition(label, 1, Prefix.Length + 1), errors, out var segments))
            Place(root, segments, value, errors);
    }

    /// <summary>
    /// Applies one entry of an overlay file (`dotted.key: value`), keeping the file's own positions
    /// for error messages.
    /// </summary>
    public static void ApplyEntry(SourceMap root, SourceScalar dottedKey, SourceNode value, List<ExperimentError> errors)
    {
        if (TrySegments(dottedKey.Value, dottedKey.At, errors, out var segments))
            Place(root, segments, value, errors);
    }

    /// <summary>The parts of a dotted key, each at its own column from <paramref name="start"/>; false (and an error) for an empty part.</summary>
    private static bool TrySegments(string dottedKey, SourcePosition start, List<ExperimentError> errors,
        out List<(string Name, SourcePosition At)> segments)
    {
        segments = [];
        int offset = 0;
        foreach (var part in dottedKey.Split('.'))
        {
            segments.Add((part, start with { Column = start.Column + offset }));
            offset += part.Length + 1;
        }
        if (segments.All(s => s.Name.Length > 0)) return true;
        errors.Add(new(start, $"'{dottedKey}' has an empty key between dots"));
        return false;
    }

    private static void Place(SourceNode root, List<(string Name, SourcePosition At)> segments, SourceNode value, List<ExperimentError> errors,
        string path = "")
    {
        SourceNode current = root;
        for (int i = 0; i < segments.Count; i++)
        {
            var (name, at) = segments[i];
            bool last = i == segments.Count - 1;
            SourceNode next;
            switch (current)
            {
                case SourceMap map:
                    if (last) { map.Set(new SourceScalar(at, name, isPlain: true), value); return; }
                    if (!map.TryGet(name, out next))
                    {
                        // Unknown keys are created too; the validator then reports them with a suggestion.
                        next = new SourceMap(at);
                        map.Set(new SourceScalar(at, name, isPlain: true), next);
                    }
                    break;
                case SourceList list when name == "*":
                    // `train.phases.*.epochs=1`: the rest of the path, in every element.
                    if (last) { for (int j = 0; j < list.Items.Count; j++) list.Items[j] = value; return; }
                    foreach (var item in list.Items) Place(item, segments.Skip(i + 1).ToList(), value, errors, SchemaFromDefaults.Join(path, "*"));
                    return;
                case SourceList list:
                    if (!int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out int index))
                    {
                        errors.Add(new(at, $"{path} is a list; index it by number, e.g. {path}.0, or {path}.* for every element"));
                        return;
                    }
                    if (index > list.Items.Count)
                    {
                        errors.Add(new(at, $"{path} has {list.Items.Count} element(s); index {index} is out of range (use {list.Items.Count} to append)"));
                        return;
                    }
                    if (index == list.Items.Count) list.Items.Add(last ? value : new SourceMap(at));
                    else if (last) list.Items[index] = value;
                    if (last) return;
                    next = list.Items[index];
                    break;
                default:
                    errors.Add(new(at, $"{path} is {current.Describe()}, not a map or list, so it has no key '{name}'"));
                    return;
            }
            path = SchemaFromDefaults.Join(path, name);
            current = next;
        }
    }
}
