using HappyWhale.Experiments;
using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Evaluation;

/// <summary>Validation MAP@5 at the configured threshold and, when tuning is on, at the best threshold of the grid.</summary>
public sealed record ValidationScore(double Map5, double Map5AtConfiguredThreshold, double Threshold, ThresholdCurve? Curve,
    IReadOnlyList<RankedPrediction> Predictions, IReadOnlyList<string> Labels);

/// <summary>
/// Scores validation queries against the training split's gallery, the way the competition
/// does: a query whose individual is not in the gallery must be answered new_individual.
/// </summary>
public static class ValidationScorer
{
    // Steps of 0.01 up to 1.01: float cosines of a collapsed model reach 1.0000001, and only a threshold
    // above 1 lets the tuning choose "new_individual first for every query".
    public static readonly IReadOnlyList<double> ThresholdGrid = ThresholdTuning.Grid(-0.2, 1.01, 122);

    /// <param name="rescore">changes each query's individuals before new_individual is inserted (logit blending); null = kNN alone.</param>
    public static ValidationScore Score(Tensor gallery, IReadOnlyList<string> galleryIds, Tensor queries, IReadOnlyList<string> queryTrueIds,
        EvaluateSpec spec, IReadOnlyList<string> fillerIds, IndividualRescorer? rescore = null)
    {
        var labels = RetrievalEvaluator.AsCompetitionLabels(queryTrueIds, galleryIds.ToHashSet(StringComparer.Ordinal));
        if (labels.Count == 0) return new ValidationScore(0, 0, spec.NewIndividualThreshold, null, [], labels);
        var neighbours = RetrievalEvaluator.Search(queries, gallery, spec.KnnK);
        // Aggregated once: the configured threshold, the grid and the tuned threshold only compose differently.
        var aggregated = RetrievalEvaluator.Aggregate(neighbours, galleryIds, rescore);
        (IReadOnlyList<RankedPrediction> Predictions, double Map5) At(double threshold)
        {
            var predictions = aggregated.Select(a => IndividualRanker.Compose(a, (float)threshold, fillerIds)).ToList();
            return (predictions, MapAt5.Score(predictions.Select(p => p.Ids).ToList(), labels));
        }
        var configured = At(spec.NewIndividualThreshold);
        if (!spec.TuneThreshold)
            return new ValidationScore(configured.Map5, configured.Map5, spec.NewIndividualThreshold, null, configured.Predictions, labels);
        var curve = ThresholdTuning.Tune(aggregated, labels, ThresholdGrid);
        var tuned = At(curve.BestThreshold);
        return new ValidationScore(tuned.Map5, configured.Map5, curve.BestThreshold, curve, tuned.Predictions, labels);
    }
}
