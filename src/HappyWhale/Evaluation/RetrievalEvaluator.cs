using HappyWhale.Experiments;
using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Evaluation;

/// <summary>Queries ranked against a gallery: the five answers per query and their MAP@5 when labels are known.</summary>
public sealed record RetrievalResult(IReadOnlyList<RankedPrediction> Predictions, double? Map5);

/// <summary>
/// Cosine kNN of query embeddings against gallery embeddings, aggregated to individuals (best
/// match per individual), with new_individual inserted below the threshold.
/// </summary>
public static class RetrievalEvaluator
{
    public static RetrievalResult Rank(Tensor queries, Tensor gallery, IReadOnlyList<string> galleryIds, EvaluateSpec spec,
        IReadOnlyList<string>? queryLabels, IReadOnlyList<string> fillerIds)
    {
        int k = Math.Min(spec.KnnK, (int)gallery.shape[0]);
        var (sims, idx) = CosineKnn.Search(queries, gallery, k);
        var ranker = new IndividualRanker(galleryIds, fillerIds);
        var predictions = ranker.RankAll(sims, idx, k, (float)spec.NewIndividualThreshold);
        double? map5 = queryLabels is null ? null : MapAt5.Score(predictions.Select(p => p.Ids).ToList(), queryLabels);
        return new RetrievalResult(predictions, map5);
    }

    /// <summary>A query's label as the competition scores it: its id if the gallery knows it, else new_individual.</summary>
    public static IReadOnlyList<string> AsCompetitionLabels(IEnumerable<string> trueIds, IReadOnlySet<string> galleryIds) =>
        trueIds.Select(id => galleryIds.Contains(id) ? id : NewIndividual.Id).ToList();

    public static Tensor Rows(Tensor embeddings, IReadOnlyList<int> positions) =>
        positions.Count == 0 ? zeros(0, embeddings.shape[1]) : embeddings.index_select(0, tensor(positions.Select(p => (long)p).ToArray()));
}
