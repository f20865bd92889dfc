using System.Text.Json.Nodes;

namespace HappyWhale.Experiments;

/// <summary>
/// Loads an experiment: defaults.yaml, under the extends chain, under the file, under --set
/// overrides; validates the result strictly and binds it to <see cref="ExperimentSpec"/>.
/// </summary>
public static class ExperimentLoader
{
    public const string DefaultsFileName = "defaults.yaml";

    /// <param name="experimentsDir">the experiments/ folder holding defaults.yaml</param>
    /// <param name="nameOrPath">`quickstart`, `quickstart.yaml`, `ci/smoke` or a path to a YAML file</param>
    /// <param name="setOverrides">`a.b.c=value` strings as given to --set, applied in order</param>
    /// <param name="overlays">names of files under experiments/overlays/ (e.g. `cpu`) whose `dotted.key: value`
    /// entries apply after the experiment and before --set: one file shrinks any experiment for a CPU</param>
    /// <exception cref="ExperimentException">listing every problem found, each with file, line and column</exception>
    public static ResolvedExperiment Load(string experimentsDir, string nameOrPath, IEnumerable<string>? setOverrides = null,
        IEnumerable<string>? overlays = null) => Load(experimentsDir, nameOrPath, setOverrides, overlays, []);

    /// <param name="entryMaps">maps of `dotted.key: value` read from another file (an ablation's variants)</param>
    internal static ResolvedExperiment Load(string experimentsDir, string nameOrPath, IEnumerable<string>? setOverrides,
        IEnumerable<string>? overlays, IReadOnlyList<SourceMap> entryMaps)
    {
        var dir = Path.GetFullPath(experimentsDir);
        var (schema, defaultsTree) = SchemaFromDefaults.LoadWithTree(Path.Combine(dir, DefaultsFileName));
        var file = ExperimentLocator.Find(dir, nameOrPath)
            ?? throw new ExperimentException(new ExperimentError(nameOrPath, 0, 0,
                $"no such experiment (looked for it as a path and under {DisplayPath.Of(dir)})"));

        var errors = new List<ExperimentError>();
        var fromFiles = new ExtendsResolver(dir, errors).Resolve(file);
        // Defaults go under before --set, so an override can index into a default list (train.phases.0.epochs).
        var merged = (SourceMap)TreeMerger.Merge(defaultsTree, fromFiles);
        foreach (var overlay in overlays ?? []) ApplyOverlay(dir, overlay, merged, errors);
        foreach (var map in entryMaps)
            foreach (var (key, value) in map.Entries) SetOverride.ApplyEntry(merged, key, value, errors);
        var arguments = (setOverrides ?? []).ToList();
        foreach (var argument in arguments) SetOverride.Apply(merged, argument, errors);
        ExperimentValidator.Validate(merged, schema.Root, errors);
        if (errors.Count == 0) CrossKeyRules.Check(merged, errors);
        if (errors.Count > 0) throw new ExperimentException(InReadingOrder(errors, arguments));

        var tree = ResolvedTreeBuilder.Build(merged, schema.Root);
        if (tree.ContainsKey("name") && tree["name"] is null)
            tree["name"] = JsonValue.Create(ExperimentLocator.DefaultName(dir, file));
        return new ResolvedExperiment(tree, file);
    }

    public const string OverlaysFolder = "overlays";

    private static void ApplyOverlay(string dir, string name, SourceMap merged, List<ExperimentError> errors)
    {
        string file = Path.Combine(dir, OverlaysFolder, name.EndsWith(".yaml", StringComparison.Ordinal) ? name : name + ".yaml");
        if (!File.Exists(file))
        {
            var known = Directory.Exists(Path.Combine(dir, OverlaysFolder))
                ? string.Join(", ", Directory.GetFiles(Path.Combine(dir, OverlaysFolder), "*.yaml").Select(Path.GetFileNameWithoutExtension).Order())
                : "none";
            errors.Add(new(name, 0, 0, $"no such overlay {DisplayPath.Of(file)} (overlays here: {known})"));
            return;
        }
        var doc = SourceTreeReader.ReadFile(file, DisplayPath.Of(file));
        errors.AddRange(doc.Errors);
        if (doc.Errors.Count > 0 || doc.Root is null) return;
        if (doc.Root is not SourceMap map)
        {
            errors.Add(new(doc.Root.At, "an overlay is a map of dotted keys to values, e.g. train.phases.*.epochs: 1"));
            return;
        }
        foreach (var (key, value) in map.Entries) SetOverride.ApplyEntry(merged, key, value, errors);
    }

    /// <summary>
    /// Validation walks the tree in defaults.yaml order; users read errors file by file, top to
    /// bottom, then the --set arguments in the order they typed them.
    /// </summary>
    private static List<ExperimentError> InReadingOrder(List<ExperimentError> errors, List<string> arguments)
    {
        int ArgumentIndex(ExperimentError e) => arguments.FindIndex(a => SetOverride.Label(a) == e.Source);
        return errors
            .OrderBy(e => ArgumentIndex(e) >= 0)
            .ThenBy(ArgumentIndex)
            .ThenBy(e => e.Source, StringComparer.Ordinal)
            .ThenBy(e => e.Line)
            .ThenBy(e => e.Column)
            .ToList();
    }
}
