namespace HappyWhale.Experiments;

// A YAML tree whose every node remembers where it was written. YamlDotNet's own representation
// model loses positions once nodes are merged across files and --set overrides, and validation
// must still point at the exact file, line and column a user has to edit.

/// <summary>Where a node was written: a file path or a "--set ..." argument, with a 1-based line and column.</summary>
public readonly record struct SourcePosition(string Source, int Line, int Column)
{
    public override string ToString() => $"{Source}:{Line}:{Column}";
}

internal abstract class SourceNode(SourcePosition at)
{
    public SourcePosition At { get; } = at;

    /// <summary>How the node reads in an error message ("a map", "a list", "the text 'x'").</summary>
    public abstract string Describe();
}

internal sealed class SourceScalar(SourcePosition at, string value, bool isPlain) : SourceNode(at)
{
    public string Value { get; } = value;

    /// <summary>False for quoted or explicitly tagged scalars: those are always strings, never numbers, booleans or null.</summary>
    public bool IsPlain { get; } = isPlain;

    public bool IsNull => IsPlain && YamlScalars.IsNull(Value);

    public override string Describe() => IsNull ? "null" : $"'{Value}'";
}

internal sealed class SourceList(SourcePosition at) : SourceNode(at)
{
    public List<SourceNode> Items { get; } = [];

    public override string Describe() => "a list";
}

internal sealed class SourceMap(SourcePosition at) : SourceNode(at)
{
    private readonly List<KeyValuePair<SourceScalar, SourceNode>> _entries = [];

    public IReadOnlyList<KeyValuePair<SourceScalar, SourceNode>> Entries => _entries;

    public override string Describe() => "a map";

    public bool TryGet(string key, out SourceNode value)
    {
        int i = IndexOf(key);
        value = i >= 0 ? _entries[i].Value : null!;
        return i >= 0;
    }

    /// <summary>Replaces the value of an existing key in place (keeping key order) or appends a new key.</summary>
    public void Set(SourceScalar key, SourceNode value)
    {
        int i = IndexOf(key.Value);
        if (i >= 0) _entries[i] = new(key, value);
        else _entries.Add(new(key, value));
    }

    public bool Remove(string key)
    {
        int i = IndexOf(key);
        if (i >= 0) _entries.RemoveAt(i);
        return i >= 0;
    }

    private int IndexOf(string key) => _entries.FindIndex(e => e.Key.Value == key);
}
