using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Evaluation;

/// <summary>
/// Combines the embeddings several models give the same images (fold ensembles, a model trained
/// elsewhere): each model's rows are L2-normalised, averaged, and the mean is normalised again, so
/// cosine kNN sees unit vectors and no model outweighs another by the scale of its embeddings.
/// </summary>
public static class EmbeddingEnsemble
{
    /// <returns>A new (rows x dim) float32 tensor; the inputs are left as they are.</returns>
    public static Tensor Average(IReadOnlyList<Tensor> embeddings)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        if (embeddings.Count == 0) throw new ArgumentException("an ensemble needs at least one model's embeddings.", nameof(embeddings));
        var shape = embeddings[0].shape;
        for (int i = 1; i < embeddings.Count; i++)
        {
            if (!embeddings[i].shape.SequenceEqual(shape))
                throw new ArgumentException(
                    $"model {i + 1} gives embeddings of shape ({string.Join(", ", embeddings[i].shape)}) but model 1 gives ({string.Join(", ", shape)}); " +
                    "ensembled models must share model.embedding_dim.");
        }
        using var scope = NewDisposeScope();
        Tensor? sum = null;
        foreach (var e in embeddings)
        {
            var unit = nn.functional.normalize(e.to_type(ScalarType.Float32), p: 2, dim: 1);
            sum = sum is null ? unit : sum.add_(unit);
        }
        return nn.functional.normalize(sum!, p: 2, dim: 1).MoveToOuterDisposeScope();
    }
}
