using TorchSharp;
using static TorchSharp.torch;
using HappyWhale.Data;

namespace HappyWhale.Evaluation;

/// <summary>Each query's nearest gallery rows (row-major, <see cref="K"/> per query, best first).</summary>
public sealed record Neighbours(float[] Similarities, int[] Indices, int K);

/// <summary>Queries ranked against a gallery: the five answers per query and their MAP@5 when labels are known.</summary>
public sealed record RetrievalResult(IReadOnlyList<RankedPrediction> Predictions, double? Map5);

/// <summary>
/// Cosine kNN of query embeddings against gallery embeddings, aggregated to individuals (best
/// match per individual), with new_individual inserted below the threshold.
/// </summary>
public static class RetrievalEvaluator
{
    public static Neighbours Search(Tensor queries, Tensor gallery, int knnK)
    {
        int k = Math.Min(knnK, (int)gallery.shape[0]);
        var (sims, idx) = CosineKnn.Search(queries, gallery, k);
        return new Neighbours(sims, idx, k);
    }

    /// <param name="rescore">changes each query's individuals before new_individual is inserted (logit blending); null = kNN alone.</param>
    /// <param name="count">ids per query (five for MAP@5).</param>
    public static RetrievalResult Rank(Neighbours neighbours, IReadOnlyList<string> galleryIds, double threshold,
        IReadOnlyList<string>? queryLabels, IReadOnlyList<string> fillerIds, IndividualRescorer? rescore = null, int count = MapAt5.Cutoff)
    {
        var predictions = Aggregate(neighbours, galleryIds, rescore)
            .Select(a => IndividualRanker.Compose(a, (float)threshold, fillerIds, count)).ToList();
        double? map5 = queryLabels is null ? null : MapAt5.Score(predictions.Select(p => p.Ids).ToList(), queryLabels);
        return new RetrievalResult(predictions, map5);
    }

    /// <summary>Each query's individuals, best similarity first (<see cref="IndividualRanker.AggregateAll"/>), rescored when asked.</summary>
    public static IReadOnlyList<IReadOnlyList<IndividualScore>> Aggregate(Neighbours neighbours, IReadOnlyList<string> galleryIds, IndividualRescorer? rescore = null)
    {
        var aggregated = new IndividualRanker(galleryIds).AggregateAll(neighbours.Similarities, neighbours.Indices, neighbours.K);
        return rescore is null ? aggregated : aggregated.Select((a, i) => rescore(i, a)).ToList();
    }

    /// <summary>A query's label as the competition scores it: its id if the gallery knows it, else new_individual.</summary>
    public static IReadOnlyList<string> AsCompetitionLabels(IEnumerable<string> trueIds, IReadOnlySet<string> galleryIds) =>
        trueIds.Select(id => galleryIds.Contains(id) ? id : NewIndividual.Id).ToList();

    public static Tensor Rows(Tensor embeddings, IReadOnlyList<int> positions) =>
        positions.Count == 0 ? zeros(0, embeddings.shape[1]) : embeddings.index_select(0, tensor(positions.Select(p => (long)p).ToArray()));
}
