namespace HappyWhale.Experiments;

/// <summary>
/// Rules between keys that a per-key range cannot state. Checked when an experiment loads, so a
/// combination that would fail in a later stage stops before any stage runs, at the key to change.
/// </summary>
internal static class CrossKeyRules
{
    /// <summary>Runs on a tree that passed <see cref="ExperimentValidator"/> (every value has its type).</summary>
    public static void Check(SourceMap root, List<ExperimentError> errors)
    {
        if (Int(root, "data", "fold") is { } fold && Int(root, "data", "folds") is { } folds && fold.Value >= folds.Value)
            errors.Add(new(fold.At, $"data.fold = {fold.Value} must be below data.folds = {folds.Value} (folds are numbered 0 to {folds.Value - 1})"));
        if (Int(root, "synth", "jpeg_quality_min") is { } min && Int(root, "synth", "jpeg_quality_max") is { } max && min.Value > max.Value)
            errors.Add(new(min.At, $"synth.jpeg_quality_min = {min.Value} is above synth.jpeg_quality_max = {max.Value}"));
    }

    private static (SourcePosition At, long Value)? Int(SourceMap root, string section, string key) =>
        root.TryGet(section, out var node) && node is SourceMap map && map.TryGet(key, out var value)
        && value is SourceScalar scalar && YamlScalars.TryInt(scalar.Value, out long number)
            ? (scalar.At, number)
            : null;
}
