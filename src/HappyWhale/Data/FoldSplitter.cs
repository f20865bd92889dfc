namespace HappyWhale.Data;

/// <summary>A training/validation split, and the individuals held out of training entirely.</summary>
public sealed record Split(IReadOnlyList<Sample> Train, IReadOnlyList<Sample> Validation, IReadOnlySet<string> HeldOutIndividuals);

/// <summary>
/// k folds stratified by individual, deterministic from the seed.
/// Individuals with one image are always in training. A share of the multi-image individuals is held
/// out: each is assigned to one fold, and all its images land in that fold. The images of every other
/// individual are dealt round-robin across the folds from a random starting fold, so each individual
/// keeps at least one training image whatever the fold.
/// For fold f: validation = the images in fold f (kept individuals' images dealt to f, plus all images
/// of the individuals held out in f); train = every other image. An individual held out in f never
/// appears in f's training set; individuals held out in other folds train normally.
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
        Shuffle(multi, rng);

        int heldOutCount = (int)Math.Round(holdoutIndividuals * multi.Count);
        var foldOf = new Dictionary<Sample, int>();
        var heldOut = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < multi.Count; i++)
        {
            var images = multi[i];
            if (i < heldOutCount)
            {
                int f = i % folds;
                foreach (var s in images) foldOf[s] = f;
                if (f == fold) heldOut.Add(images[0].IndividualId);
            }
            else
            {
                Shuffle(images, rng);
                int start = rng.Next(folds);
                for (int j = 0; j < images.Count; j++) foldOf[images[j]] = (start + j) % folds;
            }
        }

        var train = new List<Sample>();
        var validation = new List<Sample>();
        foreach (var s in samples)
            (foldOf.TryGetValue(s, out int f) && f == fold ? validation : train).Add(s);
        return new Split(train, validation, heldOut);
    }

    static void Shuffle<T>(List<T> list, Random rng)
    {
        for (int i = list.Count - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }
}
