using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Evaluation;

/// <summary>Changes one query's individuals (its kNN aggregate, best first) before new_individual is inserted.</summary>
public delegate IReadOnlyList<IndividualScore> IndividualRescorer(int query, IReadOnlyList<IndividualScore> individuals);

/// <summary>
/// A trained ArcFace head's class centres, detached from its model: the probability of each training class
/// for any embedding, softmax(s · cos) over the classes (for sub-center heads, cos is the best of a class's
/// centres), as the head scored it in training without the margin.
/// </summary>
public sealed class ClassHead : IDisposable
{
    readonly Tensor _centresT;

    public IReadOnlyList<string> Classes { get; }
    public int SubCenters { get; }
    public double Scale { get; }

    /// <param name="weight">the head's centres [classes · subCenters, dim], as trained (copied here).</param>
    /// <param name="classes">the individual id of each class, in the head's order.</param>
    public ClassHead(Tensor weight, int subCenters, double scale, IReadOnlyList<string> classes)
    {
        if (subCenters < 1) throw new ArgumentOutOfRangeException(nameof(subCenters), subCenters, "must be at least 1");
        if (weight.dim() != 2 || weight.shape[0] != (long)classes.Count * subCenters)
            throw new ArgumentException($"head weight of shape ({string.Join(", ", weight.shape)}) does not hold {classes.Count} classes x {subCenters} centre(s)");
        Classes = classes;
        SubCenters = subCenters;
        Scale = scale;
        using var w = weight.detach().to_type(ScalarType.Float32).cpu();
        using var unit = nn.functional.normalize(w, p: 2, dim: 1);
        _centresT = unit.t().contiguous();
    }

    /// <summary>Each embedding row's <paramref name="top"/> most probable classes, best first (row-major, K per row).</summary>
    public (float[] Probabilities, int[] Classes, int K) Top(Tensor embeddings, int top, int chunkRows = 1024)
    {
        int k = Math.Min(top, Classes.Count);
        long rows = embeddings.shape[0];
        var probabilities = new float[rows * k];
        var classes = new int[rows * k];
        if (rows == 0 || k == 0) return (probabilities, classes, k);
        using var scope = NewDisposeScope();
        var e = nn.functional.normalize(embeddings.to_type(ScalarType.Float32).cpu(), p: 2, dim: 1);
        for (long start = 0; start < rows; start += chunkRows)
        {
            using var chunkScope = NewDisposeScope();
            long n = Math.Min(chunkRows, rows - start);
            var cos = e.narrow(0, start, n).mm(_centresT);
            if (SubCenters > 1) cos = cos.view(n, Classes.Count, SubCenters).amax([2L]);
            var p = cos.mul(Scalars.Of(Scale)).softmax(1);
            var (values, idx) = p.topk(k, dim: 1, largest: true, sorted: true);
            var v = values.contiguous().data<float>().ToArray();
            var ix = idx.contiguous().data<long>().ToArray();
            Array.Copy(v, 0, probabilities, start * k, v.Length);
            for (int i = 0; i < ix.Length; i++) classes[start * k + i] = (int)ix[i];
        }
        return (probabilities, classes, k);
    }

    public void Dispose() => _centresT.Dispose();
}

/// <summary>
/// kNN with logits, as the competition's winners did: each individual's score becomes
/// (1 - w) · its best kNN similarity + w · the head's probability for it. An individual the head ranks
/// but kNN did not reach takes the query's lowest kNN similarity (its own is at most that); one the head
/// does not rank (or has no class for: held-out individuals) takes probability 0. The new_individual
/// threshold then applies to the blended score, so it is tuned on it.
/// </summary>
public static class LogitBlend
{
    /// <summary>The blended individuals, best first (ties keep kNN order, then head order).</summary>
    public static IReadOnlyList<IndividualScore> Blend(IReadOnlyList<IndividualScore> knn, IReadOnlyList<IndividualScore> head, double weight)
    {
        if (weight is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(weight), weight, "must be in [0, 1]");
        if (weight == 0) return knn;
        float floor = knn.Count == 0 ? -1f : knn.Min(s => s.Similarity);
        var probability = new Dictionary<string, float>(StringComparer.Ordinal);
        foreach (var h in head) probability.TryAdd(h.Id, h.Similarity);
        var blended = new List<IndividualScore>(knn.Count + head.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var s in knn)
            if (seen.Add(s.Id)) blended.Add(new(s.Id, Mix(s.Similarity, probability.GetValueOrDefault(s.Id), weight)));
        foreach (var h in head)
            if (seen.Add(h.Id)) blended.Add(new(h.Id, Mix(floor, h.Similarity, weight)));
        return blended.OrderByDescending(s => s.Similarity).ToList();
    }

    static float Mix(float similarity, float probability, double weight) => (float)((1 - weight) * similarity + weight * probability);

    /// <summary>
    /// The rescorer for a set of query embeddings (row i = query i), considering each query's
    /// <paramref name="top"/> most probable classes; null when <paramref name="weight"/> is 0 or there is no head.
    /// </summary>
    public static IndividualRescorer? For(ClassHead? head, Tensor queries, double weight, int top)
    {
        if (head is null || weight == 0) return null;
        var (probabilities, classes, k) = head.Top(queries, top);
        return (query, individuals) =>
        {
            var ranked = new IndividualScore[k];
            for (int j = 0; j < k; j++) ranked[j] = new(head.Classes[classes[query * k + j]], probabilities[query * k + j]);
            return Blend(individuals, ranked, weight);
        };
    }
}
