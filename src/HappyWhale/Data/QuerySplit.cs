namespace HappyWhale.Data;

/// <summary>Which labelled images of a folder source become test queries, and which individuals are new to the gallery.</summary>
public sealed record QueryChoice(IReadOnlySet<string> QueryImages, IReadOnlySet<string> NewIndividuals);

/// <summary>
/// Chooses test queries for sources that have no test set of their own (data.source: folder),
/// deterministically from the seed: a share of the individuals is held out entirely (all their images
/// are queries whose answer is new_individual), and of every other individual a share of its images
/// (rounded, always leaving at least one in training) is used as queries.
/// </summary>
public static class QuerySplit
{
    public static QueryChoice Choose(IReadOnlyList<Sample> samples, double queryShare, double newIndividualShare, int seed)
    {
        if (queryShare is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(queryShare));
        if (newIndividualShare is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(newIndividualShare));
        var rng = new Random(seed);
        var byId = samples.GroupBy(s => s.IndividualId, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (Id: g.Key, Images: g.Select(s => s.Image).OrderBy(i => i, StringComparer.Ordinal).ToArray()))
            .ToArray();
        var order = Enumerable.Range(0, byId.Length).ToArray();
        SeededShuffle.InPlace(order.AsSpan(), rng);
        int held = (int)Math.Round(byId.Length * newIndividualShare, MidpointRounding.AwayFromZero);
        if (held >= byId.Length && byId.Length > 0) held = byId.Length - 1;   // something must stay to train on

        var queries = new HashSet<string>(StringComparer.Ordinal);
        var newIds = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < held; i++)
        {
            var (id, images) = byId[order[i]];
            newIds.Add(id);
            queries.UnionWith(images);
        }
        foreach (var (id, images) in byId)   // sorted order, so each individual's draw does not depend on the shuffle
        {
            if (newIds.Contains(id)) continue;
            int k = Math.Min(images.Length - 1, (int)Math.Round(images.Length * queryShare, MidpointRounding.AwayFromZero));
            if (k <= 0) continue;
            var shuffled = (string[])images.Clone();
            SeededShuffle.InPlace(shuffled.AsSpan(), rng);
            queries.UnionWith(shuffled.Take(k));
        }
        return new QueryChoice(queries, newIds);
    }
}
