namespace HappyWhale.Evaluation;

/// <summary>MAP@5 as a function of the new_individual threshold, for picking it on validation data.</summary>
/// <param name="Thresholds">The grid, in the order evaluated.</param>
/// <param name="Scores">MAP@5 at each threshold.</param>
public sealed record ThresholdCurve(IReadOnlyList<double> Thresholds, IReadOnlyList<double> Scores, double BestThreshold, double BestScore);

public static class ThresholdTuning
{
    /// <summary>Evenly spaced thresholds from <paramref name="from"/> to <paramref name="to"/> inclusive.</summary>
    public static IReadOnlyList<double> Grid(double from, double to, int points)
    {
        if (points < 1) throw new ArgumentOutOfRangeException(nameof(points), points, "need at least one point.");
        if (points == 1) return new[] { from };
        // Computed from the index, not by repeated addition, so the last point is exactly 'to'.
        return Enumerable.Range(0, points).Select(i => from + (to - from) * i / (points - 1)).ToArray();
    }

    /// <summary>
    /// Scores every threshold with the same ranking rule used at inference (<see cref="IndividualRanker"/>).
    /// </summary>
    /// <param name="similarities">Row-major (queries x k) kNN similarities.</param>
    /// <param name="galleryIndices">Row-major (queries x k) gallery rows.</param>
    /// <param name="queryLabels">True id per query; new_individual for individuals absent from the gallery.</param>
    /// <remarks>Ties go to the lowest threshold of the best score, so the choice is deterministic.</remarks>
    public static ThresholdCurve Tune(
        float[] similarities, int[] galleryIndices, int k,
        IReadOnlyList<string> galleryLabels, IReadOnlyList<string> queryLabels,
        IReadOnlyList<double> thresholds) =>
        Tune(new IndividualRanker(galleryLabels).AggregateAll(similarities, galleryIndices, k), queryLabels, thresholds);

    /// <summary>
    /// The same on neighbours already aggregated to individuals (<see cref="IndividualRanker.AggregateAll"/>):
    /// aggregating once per query keeps the grid cheap, as only the insertion step depends on the threshold.
    /// </summary>
    public static ThresholdCurve Tune(IReadOnlyList<IReadOnlyList<IndividualScore>> aggregated, IReadOnlyList<string> queryLabels,
        IReadOnlyList<double> thresholds)
    {
        ArgumentNullException.ThrowIfNull(queryLabels);
        ArgumentNullException.ThrowIfNull(thresholds);
        if (thresholds.Count == 0) throw new ArgumentException("empty threshold grid.", nameof(thresholds));
        if (aggregated.Count != queryLabels.Count)
            throw new ArgumentException($"{aggregated.Count} neighbour rows but {queryLabels.Count} query labels.");

        var scores = new double[thresholds.Count];
        int best = 0;
        for (int t = 0; t < thresholds.Count; t++)
        {
            float threshold = (float)thresholds[t];
            var predictions = aggregated.Select(a => IndividualRanker.Compose(a, threshold).Ids).ToList();
            scores[t] = MapAt5.Score(predictions, queryLabels);
            if (scores[t] > scores[best]) best = t;
        }
        return new ThresholdCurve(thresholds.ToArray(), scores, thresholds[best], scores[best]);
    }
}
