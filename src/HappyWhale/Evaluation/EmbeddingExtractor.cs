using HappyWhale.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Evaluation;

/// <summary>
/// Runs a model over prepared images in batches, in eval mode and without gradients, and returns
/// L2-normalised embeddings (rows, dim). With <c>hflipTta</c> each embedding is the normalised
/// mean of the image's and its mirror's embeddings.
/// </summary>
public static class EmbeddingExtractor
{
    public static Tensor Extract(nn.Module<Tensor, Tensor> model, IImageBatches images, IReadOnlyList<int> rows, int batchSize,
        bool hflipTta = false, Action<int>? progress = null)
    {
        model.eval();
        var parts = new List<Tensor>();
        using (no_grad())
        {
            for (int start = 0; start < rows.Count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var batch = rows.Skip(start).Take(batchSize).ToArray();
                var x = ImageNetNormalization.Apply(images.ReadBatch(batch));
                var e = nn.functional.normalize(model.forward(x), p: 2, dim: 1);
                if (hflipTta) e = nn.functional.normalize(e + nn.functional.normalize(model.forward(x.flip(3)), p: 2, dim: 1), p: 2, dim: 1);
                parts.Add(e.MoveToOuterDisposeScope());
                progress?.Invoke(batch.Length);
            }
        }
        if (parts.Count == 0) return zeros(0, 0);
        var all = cat(parts, 0);
        foreach (var p in parts) p.Dispose();
        return all;
    }
}
