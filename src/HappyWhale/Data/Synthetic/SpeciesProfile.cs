namespace HappyWhale.Data.Synthetic;

/// <summary>
/// The dorsal-fin silhouette of one species in fin space: the base runs from (0,0) to (1,0), the tip
/// is at (<see cref="TipX"/>, <see cref="Height"/>). Bulges bend the edges away from their chords,
/// as a share of the chord length: positive = convex (rounded), negative = concave (falcate).
/// </summary>
public sealed record SpeciesProfile(
    string Name,
    double Height,
    double TipX,
    double LeadingBulge,
    double TrailingBulge,
    byte Gray)
{
    /// <summary>The misspellings the generator writes in train.csv: those the cleaner merges back into this name.</summary>
    public IReadOnlyList<string> Typos { get; } = SpeciesCleaner.TyposOf(Name);
}

/// <summary>The species the synthetic generator draws from, with real Happywhale names.</summary>
public static class SpeciesCatalog
{
    public static IReadOnlyList<SpeciesProfile> All { get; } =
    [
        new("bottlenose_dolphin", 0.85, 0.78, 0.12, -0.18, 100),
        new("killer_whale", 1.45, 0.42, 0.03, -0.03, 28),
        new("short_finned_pilot_whale", 0.55, 0.72, 0.20, 0.04, 45),
        new("beluga", 0.22, 0.50, 0.18, 0.18, 205),
        new("humpback_whale", 0.40, 0.62, 0.05, 0.22, 55),
        new("false_killer_whale", 0.90, 0.98, 0.15, -0.30, 38),
        new("spinner_dolphin", 0.95, 0.50, 0.05, 0.00, 85),
        new("fin_whale", 0.50, 1.02, 0.05, -0.25, 72),
    ];
}
