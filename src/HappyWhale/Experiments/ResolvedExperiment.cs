using System.Globalization;
using System.Text.Json.Nodes;

namespace HappyWhale.Experiments;

/// <summary>
/// An experiment after extends, --set overrides and defaults: every schema key present, in
/// defaults.yaml order. Immutable: accessors hand out copies.
/// </summary>
public sealed class ResolvedExperiment
{
    private readonly JsonObject _tree;
    // What leaves the process (YAML, params): credentials in URIs masked, so tracking.uri's password is never written.
    private readonly JsonObject _public;
    private readonly Lazy<IReadOnlyDictionary<string, string>> _flat;

    internal ResolvedExperiment(JsonObject tree, string sourcePath)
    {
        _tree = tree;
        SourcePath = sourcePath;
        Spec = SpecBinder.Bind(tree);
        _public = (JsonObject)UriCredentials.MaskedTree(tree)!;
        _flat = new(() => TreeFlattener.Flatten(_public));
    }

    /// <summary>The experiment file that was loaded (absolute path).</summary>
    public string SourcePath { get; }

    public ExperimentSpec Spec { get; }

    public string Name => Spec.Name;

    /// <summary>The resolved tree; a fresh copy on each call so no caller can change the experiment.</summary>
    public JsonObject Tree => (JsonObject)_tree.DeepClone();

    /// <summary>
    /// The resolved experiment as YAML in defaults.yaml key order; loading it gives the same experiment
    /// (except a password inside a URI, which is masked).
    /// </summary>
    public string ToYaml() =>
        ExperimentYamlWriter.Write(_public, $"Resolved experiment '{Name}' from {Path.GetFileName(SourcePath)} (extends, --set and defaults applied).");

    /// <summary>Dotted keys to invariant text, list elements by index (train.phases.0.epochs); in tree order; URI credentials masked.</summary>
    public IReadOnlyDictionary<string, string> Flatten() => _flat.Value;

    /// <summary>A copy of the subtree at a dotted path ("model", "train.phases.0"); "" is the whole tree.</summary>
    public JsonNode? Section(string dottedPath)
    {
        JsonNode? node = _tree;
        if (dottedPath.Length == 0) return node.DeepClone();
        foreach (var part in dottedPath.Split('.'))
        {
            node = node switch
            {
                JsonObject obj when obj.TryGetPropertyValue(part, out var child) => child,
                JsonArray arr when int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int i) && i < arr.Count => arr[i],
                _ => throw new KeyNotFoundException($"the experiment has no section '{dottedPath}' (stopped at '{part}')"),
            };
        }
        return node?.DeepClone();
    }

    /// <summary>
    /// The spec bound with every leaf key (a list counts as one leaf) that <paramref name="keep"/> refuses replaced by what
    /// <paramref name="replace"/> returns for it. A stage's computation given such a spec sees only the keys its
    /// declaration lists; the test of the declarations replaces the others with different values.
    /// </summary>
    public ExperimentSpec SpecWith(Func<string, bool> keep, Func<string, JsonNode?, JsonNode?> replace)
    {
        var tree = (JsonObject)_tree.DeepClone();
        Replace(tree, "");
        return SpecBinder.Bind(tree);

        void Replace(JsonObject obj, string prefix)
        {
            foreach (var (key, value) in obj.ToList())
            {
                string path = prefix + key;
                if (value is JsonObject child) Replace(child, path + ".");
                else if (!keep(path)) obj[key] = replace(path, value?.DeepClone());
            }
        }
    }

    public override string ToString() => $"{Name} ({SourcePath})";
}
