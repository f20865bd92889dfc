using HappyWhale.Experiments;

namespace HappyWhale.Data;

/// <summary>
/// data.holdout_species: whole species (Omniglot: alphabets) kept out of training and out of every gallery,
/// so that evaluate.episodes can ask how well the embedding tells apart individuals of a kind it never saw.
/// Names are compared after species cleaning when data.clean_species is on (the names the run reports).
/// </summary>
public static class SpeciesHoldout
{
    /// <summary>True when the experiment holds any species out.</summary>
    public static bool IsActive(DataSpec data) => data.HoldoutSpecies.Count > 0;

    /// <summary>The species name as the holdout compares it (cleaned when data.clean_species is on).</summary>
    public static string Name(string species, DataSpec data) => data.CleanSpecies ? SpeciesCleaner.Clean(species) : species;

    /// <summary>True when an image of <paramref name="species"/> (its name as listed, before cleaning) is held out.</summary>
    public static bool IsHeldOut(string species, DataSpec data) =>
        IsActive(data) && data.HoldoutSpecies.Contains(Name(species, data), StringComparer.Ordinal);

    /// <summary>
    /// The samples (species names already cleaned as <paramref name="data"/> says) without the held-out species.
    /// Stops with the names that match no species, and when nothing would be left to train on.
    /// </summary>
    public static List<Sample> Exclude(IReadOnlyList<Sample> samples, DataSpec data)
    {
        if (!IsActive(data)) return samples.ToList();
        var present = samples.Select(s => s.Species).ToHashSet(StringComparer.Ordinal);
        var unknown = data.HoldoutSpecies.Where(h => !present.Contains(h)).Distinct(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
            throw new UserException($"data.holdout_species names {string.Join(", ", unknown)}, not a species of the training labels; " +
                                    $"species present: {string.Join(", ", present.OrderBy(p => p, StringComparer.Ordinal))}.");
        var held = data.HoldoutSpecies.ToHashSet(StringComparer.Ordinal);
        var kept = samples.Where(s => !held.Contains(s.Species)).ToList();
        if (kept.Count == 0)
            throw new UserException($"data.holdout_species holds out every species ({string.Join(", ", held.Order(StringComparer.Ordinal))}): nothing is left to train on.");
        return kept;
    }
}
