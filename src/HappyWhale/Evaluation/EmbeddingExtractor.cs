using HappyWhale.Experiments;
using HappyWhale.Imaging;
using HappyWhale.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Evaluation;

/// <summary>
/// What describes one image at evaluation: evaluate.tta_shift (the image and 8 copies moved by this share of its
/// side, descriptors averaged) and evaluate.feature (the embedding, or it and the pooled backbone features).
/// </summary>
public sealed record EmbeddingViews(double Shift = 0, EmbeddingFeature Feature = EmbeddingFeature.Embedding)
{
    public static readonly EmbeddingViews Plain = new();

    public static EmbeddingViews Of(EvaluateSpec spec) => new(spec.TtaShift, spec.Feature);
}

/// <summary>
/// Runs a model over prepared images in batches, in eval mode and without gradients, and returns
/// L2-normalised embeddings (rows, dim). With <c>hflipTta</c> each embedding is the normalised
/// mean of the image's and its mirror's embeddings; <see cref="EmbeddingViews"/> adds shifted copies and pooled features.
/// </summary>
public static class EmbeddingExtractor
{
    public static Tensor Extract(nn.Module<Tensor, Tensor> model, IImageBatches images, IReadOnlyList<int> rows, int batchSize,
        bool hflipTta = false, Action<int>? progress = null, EmbeddingViews? views = null)
    {
        var (plain, tta) = Run(model, images, rows, batchSize, hflipTta, keepPlain: !hflipTta, progress, views ?? EmbeddingViews.Plain);
        return tta ?? plain!;
    }

    /// <summary>
    /// Both embeddings from one pass: without TTA, and averaged with the mirror (what
    /// <c>Extract(..., hflipTta: true)</c> returns), so the effect of TTA costs no extra forward pass.
    /// </summary>
    public static (Tensor Plain, Tensor Tta) ExtractWithAndWithoutTta(nn.Module<Tensor, Tensor> model, IImageBatches images,
        IReadOnlyList<int> rows, int batchSize, Action<int>? progress = null, EmbeddingViews? views = null)
    {
        var (plain, tta) = Run(model, images, rows, batchSize, hflip: true, keepPlain: true, progress, views ?? EmbeddingViews.Plain);
        return (plain!, tta!);
    }

    static (Tensor? Plain, Tensor? Tta) Run(nn.Module<Tensor, Tensor> model, IImageBatches images, IReadOnlyList<int> rows, int batchSize,
        bool hflip, bool keepPlain, Action<int>? progress, EmbeddingViews views)
    {
        if (views.Feature == EmbeddingFeature.EmbeddingAndPooled && model is not ReidModel)
            throw new ArgumentException($"evaluate.feature: embedding_and_pooled needs a re-identification model, not {model.GetType().Name}.");
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
                var e = Describe(model, x, views);
                if (hflip)
                {
                    var mirrored = Describe(model, x.flip(3), views);
                    ttaParts.Add(nn.functional.normalize(e + mirrored, p: 2, dim: 1).MoveToOuterDisposeScope());
                }
                if (keepPlain) plainParts.Add(e.MoveToOuterDisposeScope());
                progress?.Invoke(batch.Length);
            }
        }
        return (keepPlain ? Concat(plainParts) : null, hflip ? Concat(ttaParts) : null);
    }

    /// <summary>The normalised descriptor of a batch: averaged over the shifted views when evaluate.tta_shift is on.</summary>
    static Tensor Describe(nn.Module<Tensor, Tensor> model, Tensor x, EmbeddingViews views)
    {
        int d = views.Shift > 0 ? Math.Max(1, (int)Math.Round(views.Shift * Math.Min(x.shape[2], x.shape[3]))) : 0;
        if (d == 0) return Descriptor(model, x, views.Feature);
        using var scope = NewDisposeScope();
        long h = x.shape[2], w = x.shape[3];
        var padded = nn.functional.pad(x, [d, d, d, d], PaddingModes.Replicate);
        var sum = Descriptor(model, x, views.Feature);
        foreach (var (dy, dx) in Moves(d))
            sum.add_(Descriptor(model, padded.narrow(2, d - dy, h).narrow(3, d - dx, w), views.Feature));
        return nn.functional.normalize(sum, p: 2, dim: 1).MoveToOuterDisposeScope();
    }

    /// <summary>Up, down, left, right and the four diagonals, by <paramref name="d"/> pixels.</summary>
    static IEnumerable<(long Dy, long Dx)> Moves(long d) =>
        [(d, 0), (-d, 0), (0, d), (0, -d), (d, d), (-d, -d), (d, -d), (-d, d)];

    static Tensor Descriptor(nn.Module<Tensor, Tensor> model, Tensor x, EmbeddingFeature feature)
    {
        if (feature == EmbeddingFeature.Embedding) return nn.functional.normalize(model.forward(x), p: 2, dim: 1);
        using var scope = NewDisposeScope();
        var (embedding, pooled) = ((ReidModel)model).ForwardWithPooled(x);
        var both = cat([nn.functional.normalize(embedding, p: 2, dim: 1), nn.functional.normalize(pooled, p: 2, dim: 1)], 1);
        return nn.functional.normalize(both, p: 2, dim: 1).MoveToOuterDisposeScope();
    }

    static Tensor Concat(List<Tensor> parts)
    {
        if (parts.Count == 0) return zeros(0, 0);
        var all = cat(parts, 0);
        foreach (var p in parts) p.Dispose();
        return all;
    }
}
