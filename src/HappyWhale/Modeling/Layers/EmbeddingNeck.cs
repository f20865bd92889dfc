using HappyWhale.Experiments;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HappyWhale.Modeling;

/// <summary>
/// Maps pooled features [N, inFeatures] to the embedding. <c>linear_bn</c>: Linear(inFeatures, dim) then
/// BatchNorm1d(dim) (parameters <c>fc.*</c>, <c>bn.*</c>); <c>bn</c>: BatchNorm1d(inFeatures) only
/// (dim = inFeatures; parameters <c>bn.*</c>).
/// </summary>
public sealed class EmbeddingNeck : Module<Tensor, Tensor>
{
    private readonly Linear? fc;
    private readonly BatchNorm1d bn;

    public NeckType Kind { get; }
    public long InFeatures { get; }
    public long OutFeatures { get; }

    public EmbeddingNeck(NeckType kind, long inFeatures, long embeddingDim) : base(nameof(EmbeddingNeck))
    {
        Kind = kind;
        InFeatures = inFeatures;
        switch (kind)
        {
            case NeckType.LinearBn:
                if (embeddingDim <= 0) throw new ArgumentOutOfRangeException(nameof(embeddingDim), embeddingDim, "must be positive");
                fc = Linear(inFeatures, embeddingDim);
                bn = BatchNorm1d(embeddingDim);
                OutFeatures = embeddingDim;
                break;
            case NeckType.Bn:
                bn = BatchNorm1d(inFeatures);
                OutFeatures = inFeatures;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "model.neck");
        }
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        if (fc is null) return bn.call(x);
        using var h = fc.call(x);
        return bn.call(h);
    }
}
