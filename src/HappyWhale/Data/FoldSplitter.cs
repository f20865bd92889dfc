using System.Runtime.InteropServices;

namespace HappyWhale.Data;

/// <summary>A training/validation split, and the individuals held out of training entirely.</summary>
public sealed record Split(IReadOnlyList<Sample> Train, IReadOnlyList<Sample> Validation, IReadOnlySet<string> HeldOutIndividuals);

/// <summary>
/// k folds stratified by individual, deterministic from the seed (the fold only selects, so the k
/// splits of one seed are consistent).
/// Individuals with one image are always in training. The images of every multi-image individual are
/// dealt round-robin across the folds from a random starting fold, so an individual keeps at least one
/// training image in every fold. On top of that each fold f holds out a block of
/// round(holdoutIndividuals * multi-image individuals) whole individuals (consecutive blocks of one
/// shuffled order, disjoint while holdoutIndividuals * folds <= 1).
/// For fold f: validation = the kept individuals' images dealt to f + all images of the individuals
/// held out in f; train = every other image, so no individual held out in f appears in its training set.
/// </summary>
public static class FoldSplitter
{
    public static Split Split(IReadOnlyList<Sample> samples, int folds, int fold, double holdoutIndividuals, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(folds, 2);
        if (fold < 0 || fold >= folds) throw new ArgumentOutOfRangeException(nameof(fold), $"fold {fold} is not in [0, {folds - 1}]");
        if (holdoutIndividuals is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(holdoutIndividuals));

        var rng = new Random(seed);
        var groups = samples
            .GroupBy(s => s.IndividualId, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.OrderBy(s => s.Image, StringComparer.Ordinal).ToList())
            .ToList();
        var multi = groups.Where(g => g.Count > 1).ToList();
        SeededShuffle.InPlace(CollectionsMarshal.AsSpan(multi), rng);

        int heldOutCount = Math.Min(multi.Count, (int)Math.Round(holdoutIndividuals * multi.Count));
        var heldOut = new HashSet<string>(StringComparer.Ordinal);
        for (int k = 0; k < heldOutCount; k++)
            heldOut.Add(multi[(fold * heldOutCount + k) % multi.Count][0].IndividualId);

        var foldOf = new Dictionary<Sample, int>();
        foreach (var images in multi)
        {
            SeededShuffle.InPlace(CollectionsMarshal.AsSpan(images), rng);
            int start = rng.Next(folds);
            for (int j = 0; j < images.Count; j++) foldOf[images[j]] = (start + j) % folds;
        }

        var train = new List<Sample>();
        var validation = new List<Sample>();
        foreach (var s in samples)
            (heldOut.Contains(s.IndividualId) || (foldOf.TryGetValue(s, out int f) && f == fold) ? validation : train).Add(s);
        return new Split(train, validation, heldOut);
    }
}
