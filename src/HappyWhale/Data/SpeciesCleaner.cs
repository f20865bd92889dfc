namespace HappyWhale.Data;

/// <summary>One species name replaced by another, and on how many rows.</summary>
public sealed record SpeciesMerge(string From, string To, int Rows);

/// <summary>Samples after cleaning, and what was merged.</summary>
public sealed record CleanedSamples(IReadOnlyList<Sample> Samples, IReadOnlyList<SpeciesMerge> Merges);

/// <summary>
/// Merges the known species-name duplicates of the Happywhale data: bottlenose_dolpin, kiler_whale,
/// globis and pilot_whale are typos or synonyms; beluga -> beluga_whale is a rename.
/// </summary>
public static class SpeciesCleaner
{
    // In this order the synthetic generator draws a species' typos from them (see TyposOf).
    static readonly (string From, string To)[] Known =
    [
        ("bottlenose_dolpin", "bottlenose_dolphin"),
        ("kiler_whale", "killer_whale"),
        ("pilot_whale", "short_finned_pilot_whale"),
        ("globis", "short_finned_pilot_whale"),
        ("beluga", "beluga_whale"),
    ];

    public static IReadOnlyDictionary<string, string> Replacements { get; } = Known.ToDictionary(p => p.From, p => p.To, StringComparer.Ordinal);

    /// <summary>The names that are cleaned into <paramref name="species"/>, in a fixed order.</summary>
    public static IReadOnlyList<string> TyposOf(string species) => Known.Where(p => p.To == species).Select(p => p.From).ToArray();

    public static string Clean(string species) => Replacements.GetValueOrDefault(species, species);

    public static CleanedSamples Clean(IReadOnlyList<Sample> samples)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var cleaned = new List<Sample>(samples.Count);
        foreach (var s in samples)
        {
            if (Replacements.TryGetValue(s.Species, out var to))
            {
                counts[s.Species] = counts.GetValueOrDefault(s.Species) + 1;
                cleaned.Add(s with { Species = to });
            }
            else cleaned.Add(s);
        }
        var merges = counts.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => new SpeciesMerge(kv.Key, Replacements[kv.Key], kv.Value))
            .ToList();
        return new CleanedSamples(cleaned, merges);
    }
}
