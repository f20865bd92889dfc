using HappyWhale.Imaging;
using HappyWhale.Modeling;
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
        var (plain, tta) = Run(model, images, rows, batchSize, hflipTta, keepPlain: !hflipTta, progress);
        return tta ?? plain!;
    }

    /// <summary>
    /// Both embeddings from one pass: without TTA, and averaged with the mirror (what
    /// <c>Extract(..., hflipTta: true)</c> returns), so the effect of TTA costs no extra forward pass.
    /// </summary>
    public static (Tensor Plain, Tensor Tta) ExtractWithAndWithoutTta(nn.Module<Tensor, Tensor> model, IImageBatches images,
        IReadOnlyList<int> rows, int batchSize, Action<int>? progress = null)
    {
        var (plain, tta) = Run(model, images, rows, batchSize, hflip: true, keepPlain: true, progress);
        return (plain!, tta!);
    }

    static (Tensor? Plain, Tensor? Tta) Run(nn.Module<Tensor, Tensor> model, IImageBatches images, IReadOnlyList<int> rows, int batchSize,
        bool hflip, bool keepPlain, Action<int>? progress)
    {
        model.eval();
        var device = ComputeDevice.Of(model);
        var plainParts = new List<Tensor>();
        var ttaParts = new List<Tensor>();
        using (no_grad())
        {
            for (int start = 0; start < rows.Count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var batch = rows.Skip(start).Take(batchSize).ToArray();
                var x = InputNormalization.Apply(model, ComputeDevice.Move(images.ReadBatch(batch), device));
                var e = nn.functional.normalize(model.forward(x), p: 2, dim: 1);
                if (hflip)
                {
                    var mirrored = nn.functional.normalize(model.forward(x.flip(3)), p: 2, dim: 1);
                    ttaParts.Add(nn.functional.normalize(e + mirrored, p: 2, dim: 1).MoveToOuterDisposeScope());
                }
                if (keepPlain) plainParts.Add(e.MoveToOuterDisposeScope());
                progress?.Invoke(batch.Length);
            }
        }
        return (keepPlain ? Concat(plainParts) : null, hflip ? Concat(ttaParts) : null);
    }

    static Tensor Concat(List<Tensor> parts)
    {
        if (parts.Count == 0) return zeros(0, 0);
        var all = cat(parts, 0);
        foreach (var p in parts) p.Dispose();
        return all;
    }
}
