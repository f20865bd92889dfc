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
    /// <exception cref="ExperimentException">listing every problem found, each with file, line and column</exception>
    public static ResolvedExperiment Load(string experimentsDir, string nameOrPath, IEnumerable<string>? setOverrides = null)
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
        var arguments = (setOverrides ?? []).ToList();
        foreach (var argument in arguments) SetOverride.Apply(merged, argument, errors);
        ExperimentValidator.Validate(merged, schema.Root, errors);
        if (errors.Count > 0) throw new ExperimentException(InReadingOrder(errors, arguments));

        var tree = ResolvedTreeBuilder.Build(merged, schema.Root);
        if (tree.ContainsKey("name") && tree["name"] is null)
            tree["name"] = JsonValue.Create(ExperimentLocator.DefaultName(dir, file));
        return new ResolvedExperiment(tree, file);
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

    /// <summary>The schema of the experiments in <paramref name="experimentsDir"/>, for help text and tools.</summary>
    public static ExperimentSchema LoadSchema(string experimentsDir) =>
        SchemaFromDefaults.Load(Path.Combine(Path.GetFullPath(experimentsDir), DefaultsFileName));
}
