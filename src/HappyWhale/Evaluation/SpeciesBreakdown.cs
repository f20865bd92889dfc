using HappyWhale.Data;

namespace HappyWhale.Evaluation;

/// <summary>
/// MAP@5 per species: each query counts for the species of its true individual, with species names
/// cleaned (<see cref="SpeciesCleaner"/>) so typo variants pool together. Keys are ordinal-sorted.
/// </summary>
public static class SpeciesBreakdown
{
    public static IReadOnlyDictionary<string, double> MapAt5BySpecies(
        IReadOnlyList<IReadOnlyList<string>> predictions, IReadOnlyList<string> labels, IReadOnlyList<string> species)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(species);
        if (predictions.Count != labels.Count || labels.Count != species.Count)
            throw new ArgumentException($"{predictions.Count} predictions, {labels.Count} labels and {species.Count} species: need one of each per query.");

        var result = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var group in Enumerable.Range(0, labels.Count).GroupBy(i => SpeciesCleaner.Clean(species[i]), StringComparer.Ordinal))
            result[group.Key] = group.Average(i => MapAt5.ScoreOne(predictions[i], labels[i]));
        return result;
    }
}
