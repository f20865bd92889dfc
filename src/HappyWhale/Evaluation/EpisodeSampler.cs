namespace HappyWhale.Evaluation;

/// <summary>One labelled image an episode may use: its position in the embedded pool, its species and its individual.</summary>
public sealed record EpisodeImage(int Index, string Species, string Individual);

/// <summary>
/// One N-way K-shot episode, all of one species: <see cref="Support"/> holds K images of each of the N individuals
/// (positions into the pool), <see cref="SupportClass"/> their individual's number 0..N-1; <see cref="Queries"/> one
/// more image of each individual, <see cref="QueryClass"/> likewise.
/// </summary>
public sealed record Episode(string Species, IReadOnlyList<int> Support, IReadOnlyList<int> SupportClass,
    IReadOnlyList<int> Queries, IReadOnlyList<int> QueryClass);

/// <summary>
/// Draws N-way K-shot episodes within species, deterministically from a seed (the same pool and seed give the
/// same episodes). The species that have at least N individuals with K + 1 images take the episodes in turn
/// (sorted by name), so each gets the same number, give or take one. In an episode the N individuals are drawn
/// without replacement from that species, and K + 1 distinct images of each: K supports and one query.
/// </summary>
public static class EpisodeSampler
{
    public static IReadOnlyList<Episode> Sample(IReadOnlyList<EpisodeImage> pool, int ways, int shots, int episodes, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ways, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(shots, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(episodes);
        var species = Eligible(pool, ways, shots);
        if (episodes == 0) return [];
        if (species.Count == 0)
            throw new UserException($"no species has {ways} individuals with {shots + 1} images each, which a {ways}-way {shots}-shot episode needs " +
                                    $"({Describe(pool, shots)}); lower evaluate.episodes.ways or shots, or hold out other species.");
        var rng = new Random(seed);
        var result = new List<Episode>(episodes);
        for (int e = 0; e < episodes; e++)
        {
            var (name, individuals) = species[e % species.Count];
            var chosen = Draw(individuals, ways, rng);
            var support = new List<int>(ways * shots);
            var supportClass = new List<int>(ways * shots);
            var queries = new List<int>(ways);
            var queryClass = new List<int>(ways);
            for (int c = 0; c < chosen.Count; c++)
            {
                var images = Draw(chosen[c], shots + 1, rng);
                for (int k = 0; k < shots; k++) { support.Add(images[k]); supportClass.Add(c); }
                queries.Add(images[shots]);
                queryClass.Add(c);
            }
            result.Add(new Episode(name, support, supportClass, queries, queryClass));
        }
        return result;
    }

    /// <summary>Species (sorted) with at least <paramref name="ways"/> individuals of at least shots + 1 images; each individual's image positions sorted.</summary>
    public static IReadOnlyList<(string Species, IReadOnlyList<IReadOnlyList<int>> Individuals)> Eligible(IReadOnlyList<EpisodeImage> pool, int ways, int shots) =>
        pool.GroupBy(i => i.Species, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (Species: g.Key, Individuals: (IReadOnlyList<IReadOnlyList<int>>)g
                .GroupBy(i => i.Individual, StringComparer.Ordinal)
                .OrderBy(i => i.Key, StringComparer.Ordinal)
                .Select(i => (IReadOnlyList<int>)i.Select(x => x.Index).Order().ToList())
                .Where(images => images.Count >= shots + 1)
                .ToList()))
            .Where(s => s.Individuals.Count >= ways)
            .ToList();

    /// <summary><paramref name="count"/> distinct items in random order (a partial Fisher-Yates shuffle of a copy).</summary>
    static List<T> Draw<T>(IReadOnlyList<T> items, int count, Random rng)
    {
        var copy = items.ToArray();
        for (int i = 0; i < count; i++)
        {
            int j = rng.Next(i, copy.Length);
            (copy[i], copy[j]) = (copy[j], copy[i]);
        }
        return copy.Take(count).ToList();
    }

    static string Describe(IReadOnlyList<EpisodeImage> pool, int shots)
    {
        if (pool.Count == 0) return "no image of a held-out individual at all";
        return string.Join("; ", pool.GroupBy(i => i.Species, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"{g.Key}: {g.GroupBy(i => i.Individual).Count(i => i.Count() >= shots + 1)} such individuals"));
    }
}
