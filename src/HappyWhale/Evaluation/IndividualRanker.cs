using HappyWhale.Data;

namespace HappyWhale.Evaluation;

/// <summary>
/// Turns a query's nearest gallery images into a ranked list of individuals with new_individual
/// inserted where the evidence runs out.
/// </summary>
/// <remarks>
/// Split into <see cref="Aggregate"/> and <see cref="Compose"/> so that threshold tuning aggregates each
/// query once and then replays exactly the inference-time insertion rule for every threshold.
/// </remarks>
public sealed class IndividualRanker
{
    private readonly IReadOnlyList<string> _galleryLabels;
    private readonly IReadOnlyList<string> _fillerIds;

    /// <param name="galleryLabels">Individual id of every gallery row (the indices kNN returns).</param>
    /// <param name="fillerIds">
    /// Ids used, in order, to complete a list that still has fewer than five entries after
    /// new_individual (for example the most frequent training individuals). Without fillers a list can
    /// be shorter than five, which MAP@5 accepts but the submission writer refuses.
    /// </param>
    public IndividualRanker(IReadOnlyList<string> galleryLabels, IReadOnlyList<string>? fillerIds = null)
    {
        _galleryLabels = galleryLabels ?? throw new ArgumentNullException(nameof(galleryLabels));
        _fillerIds = fillerIds ?? Array.Empty<string>();
    }

    /// <summary>
    /// Best similarity per individual, ordered by that similarity descending; ties keep the order in
    /// which the individuals first appear among the neighbours.
    /// </summary>
    /// <remarks>
    /// Gallery rows labelled new_individual are skipped: they name no one, and keeping them would let
    /// new_individual appear twice once the threshold rule inserts it.
    /// </remarks>
    public IReadOnlyList<IndividualScore> Aggregate(ReadOnlySpan<float> similarities, ReadOnlySpan<int> galleryIndices)
    {
        if (similarities.Length != galleryIndices.Length)
            throw new ArgumentException($"{similarities.Length} similarities but {galleryIndices.Length} indices.");

        var best = new Dictionary<string, int>(StringComparer.Ordinal);
        var list = new List<IndividualScore>();
        for (int i = 0; i < similarities.Length; i++)
        {
            int g = galleryIndices[i];
            if ((uint)g >= (uint)_galleryLabels.Count)
                throw new ArgumentOutOfRangeException(nameof(galleryIndices), g, $"gallery index outside 0..{_galleryLabels.Count - 1}.");
            string id = _galleryLabels[g];
            if (id == NewIndividual.Id) continue;
            float s = similarities[i];
            if (best.TryGetValue(id, out int at))
            {
                if (s > list[at].Similarity) list[at] = new IndividualScore(id, s);
            }
            else
            {
                best[id] = list.Count;
                list.Add(new IndividualScore(id, s));
            }
        }
        // kNN output is already sorted, so this is usually a no-op; it makes unsorted input safe too.
        // OrderByDescending is stable, which is what keeps first-appearance order on ties.
        return list.OrderByDescending(x => x.Similarity).ToList();
    }

    /// <summary>
    /// Top five ids (<paramref name="count"/>): individuals in order, with new_individual placed at the first rank whose similarity
    /// is strictly below <paramref name="threshold"/>. If all five individuals clear the threshold it is
    /// left out; if there are fewer than five individuals it is appended once, then fillers follow.
    /// No id ever appears twice (a duplicate would only waste a rank under MAP@5).
    /// </summary>
    public static RankedPrediction Compose(IReadOnlyList<IndividualScore> individuals, float threshold, IReadOnlyList<string>? fillerIds = null,
        int count = MapAt5.Cutoff)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        int n = count;
        var ids = new List<string>(n);
        var sims = new List<float>(n);
        bool newPlaced = false;

        foreach (var ind in individuals)
        {
            if (ids.Count == n) break;
            if (!newPlaced && ind.Similarity < threshold)
            {
                ids.Add(NewIndividual.Id);
                sims.Add(threshold);
                newPlaced = true;
                if (ids.Count == n) break;
            }
            ids.Add(ind.Id);
            sims.Add(ind.Similarity);
        }
        if (ids.Count < n && !newPlaced)
        {
            ids.Add(NewIndividual.Id);
            sims.Add(threshold);
        }
        if (fillerIds is not null)
        {
            foreach (var f in fillerIds)
            {
                if (ids.Count == n) break;
                if (ids.Contains(f, StringComparer.Ordinal)) continue;
                ids.Add(f);
                sims.Add(float.NaN);
            }
        }
        return new RankedPrediction(ids, sims);
    }

    public RankedPrediction Rank(ReadOnlySpan<float> similarities, ReadOnlySpan<int> galleryIndices, float threshold)
        => Compose(Aggregate(similarities, galleryIndices), threshold, _fillerIds);

    /// <summary>Ranks every query of a row-major (queries x k) kNN result, as returned by <see cref="CosineKnn"/>.</summary>
    public IReadOnlyList<RankedPrediction> RankAll(float[] similarities, int[] galleryIndices, int k, float threshold) =>
        AggregateAll(similarities, galleryIndices, k).Select(a => Compose(a, threshold, _fillerIds)).ToList();

    /// <summary><see cref="Aggregate"/> for every query of a row-major (queries x k) kNN result; only composing depends on the threshold.</summary>
    public IReadOnlyList<IReadOnlyList<IndividualScore>> AggregateAll(float[] similarities, int[] galleryIndices, int k) =>
        NeighbourRows.Split(similarities, galleryIndices, k).Select(row => Aggregate(row.Similarities.Span, row.Indices.Span)).ToList();
}
