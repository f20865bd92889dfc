namespace HappyWhale.Experiments;

/// <summary>One variant of an ablation: its name, the keys it changes, and one resolved experiment per seed.</summary>
public sealed record AblationVariant(string Name, IReadOnlyList<string> Changes, IReadOnlyList<(int Seed, ResolvedExperiment Experiment)> Runs);

/// <summary>
/// An ablation: a base experiment, named variants (overrides), the seeds every variant runs with, and for
/// variants compared with another variant than the reference (<see cref="References"/>), that variant.
/// </summary>
public sealed record AblationSpec(string Name, string SourcePath, string Base, IReadOnlyList<int> Seeds, string Metric, IReadOnlyList<AblationVariant> Variants,
    IReadOnlyDictionary<string, string>? References = null)
{
    /// <summary>The variant every other is compared with: the one called base, else the first.</summary>
    public string DefaultReference => Variants.Any(v => v.Name == "base") ? "base" : Variants[0].Name;

    /// <summary>
    /// The variant <paramref name="variant"/> is compared with: its entry in references; itself when it is another
    /// variant's reference (a second baseline, e.g. on another data set); otherwise the default reference.
    /// </summary>
    public string ReferenceOf(string variant) =>
        References?.GetValueOrDefault(variant) ?? (References?.Values.Contains(variant) == true ? variant : DefaultReference);
}

/// <summary>
/// Reads experiments/ablations/NAME.yaml:
/// <code>
/// base: quickstart          # an experiment under experiments/
/// seeds: [1, 2, 3]          # train.seed values; optional (default: the base's seed)
/// metric: test_map5         # the metric compared (default test_map5)
/// variants:
///   base: {}                # the reference row; the first variant is the reference when none is called base
///   rotate: {train.augment.rotate_deg: 10}
/// references:               # optional: variants compared with another variant than the reference
///   other_rotate: other     # (a variant named as a reference here is itself a baseline row)
/// </code>
/// Variant entries are `dotted.key: value`, as in overlays; every variant x seed is validated
/// like any experiment, with errors pointing into the ablation file.
/// </summary>
public static class AblationLoader
{
    public const string Folder = "ablations";

    public static AblationSpec Load(string experimentsDir, string name)
    {
        string dir = Path.GetFullPath(experimentsDir);
        string file = Path.Combine(dir, Folder, name.EndsWith(".yaml", StringComparison.Ordinal) ? name : name + ".yaml");
        if (!File.Exists(file))
            throw new ExperimentException(new ExperimentError(name, 0, 0, $"no such ablation {DisplayPath.Of(file)}"));
        var doc = SourceTreeReader.ReadFile(file, DisplayPath.Of(file));
        if (doc.Errors.Count > 0) throw new ExperimentException(doc.Errors.ToList());
        if (doc.Root is not SourceMap root) throw new ExperimentException(new ExperimentError(DisplayPath.Of(file), 1, 1, "an ablation file is a map with base, seeds and variants"));

        var errors = new List<ExperimentError>();
        string? baseName = Scalar(root, "base", errors, required: true);
        string metric = Scalar(root, "metric", errors, required: false) ?? "test_map5";
        var seeds = new List<int>();
        if (root.TryGet("seeds", out var seedsNode))
        {
            if (seedsNode is SourceList list)
                foreach (var item in list.Items)
                    if (item is SourceScalar s && int.TryParse(s.Value, out int seed) && seed >= 0) seeds.Add(seed);
                    else errors.Add(new(item.At, "seeds must be a list of non-negative integers"));
            else errors.Add(new(seedsNode.At, "seeds must be a list of non-negative integers, e.g. [1, 2, 3]"));
        }
        if (!root.TryGet("variants", out var variantsNode) || variantsNode is not SourceMap variantMap || variantMap.Entries.Count == 0)
            errors.Add(new(root.At, "an ablation needs variants: a map of name -> {dotted.key: value}"));
        foreach (var (key, _) in root.Entries)
            if (key.Value is not ("base" or "seeds" or "metric" or "variants" or "description" or "references"))
                errors.Add(new(key.At, $"unknown key '{key.Value}' in an ablation file; keys are base, seeds, metric, variants, references, description"));
        if (errors.Count > 0) throw new ExperimentException(errors);

        string ablationName = Path.GetFileNameWithoutExtension(file);
        var variants = new List<AblationVariant>();
        foreach (var (variantKey, node) in ((SourceMap)variantsNode!).Entries)
        {
            if (node is not SourceMap changes)
            {
                errors.Add(new(node.At, $"variant '{variantKey.Value}' must be a map of dotted.key: value (use {{}} for no change)"));
                continue;
            }
            var runs = new List<(int, ResolvedExperiment)>();
            foreach (int? seed in seeds.Count == 0 ? [null] : seeds.Select(s => (int?)s))
            {
                var sets = new List<string> { $"name={ablationName}/{variantKey.Value}" + (seed is null ? "" : $"/s{seed}") };
                if (seed is not null) sets.Add($"train.seed={seed}");
                try
                {
                    var experiment = ExperimentLoader.Load(dir, baseName!, sets, [], [changes]);
                    runs.Add((experiment.Spec.Train.Seed, experiment));
                }
                catch (ExperimentException e) { errors.AddRange(e.Errors); break; }
            }
            var described = changes.Entries.Select(e => $"{e.Key.Value}={Describe(e.Value)}").ToList();
            variants.Add(new AblationVariant(variantKey.Value, described, runs));
        }
        var references = References(root, variants.Select(v => v.Name).ToHashSet(StringComparer.Ordinal), errors);
        if (errors.Count > 0) throw new ExperimentException(errors.Distinct().ToList());
        return new AblationSpec(ablationName, file, baseName!, seeds, metric, variants, references);
    }

    static Dictionary<string, string>? References(SourceMap root, HashSet<string> variants, List<ExperimentError> errors)
    {
        if (!root.TryGet("references", out var node)) return null;
        if (node is not SourceMap map)
        {
            errors.Add(new(node.At, "references must be a map of variant: the variant it is compared with"));
            return null;
        }
        var references = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in map.Entries)
        {
            if (!variants.Contains(key.Value)) errors.Add(new(key.At, $"references: '{key.Value}' is not a variant of this ablation"));
            else if (value is not SourceScalar { IsNull: false } s || !variants.Contains(s.Value) || s.Value == key.Value)
                errors.Add(new(value.At, $"references: '{key.Value}' must name another variant of this ablation"));
            else references[key.Value] = s.Value;
        }
        return references;
    }

    static string? Scalar(SourceMap map, string key, List<ExperimentError> errors, bool required)
    {
        if (map.TryGet(key, out var node) && node is SourceScalar s && !s.IsNull) return s.Value;
        if (required) errors.Add(new(map.At, $"an ablation needs '{key}'"));
        return null;
    }

    static string Describe(SourceNode node) => node switch
    {
        SourceScalar s => s.Value,
        SourceList l => "[" + string.Join(", ", l.Items.Select(Describe)) + "]",
        SourceMap m => "{" + string.Join(", ", m.Entries.Select(e => $"{e.Key.Value}: {Describe(e.Value)}")) + "}",
        _ => "?",
    };
}
