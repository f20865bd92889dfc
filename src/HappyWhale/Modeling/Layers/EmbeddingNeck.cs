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
    public const string LinearBn = "linear_bn";
    public const string BnOnly = "bn";

    private readonly Linear? fc;
    private readonly BatchNorm1d bn;

    public string Kind { get; }
    public long InFeatures { get; }
    public long OutFeatures { get; }

    public EmbeddingNeck(string kind, long inFeatures, long embeddingDim) : base(nameof(EmbeddingNeck))
    {
        Kind = kind;
        InFeatures = inFeatures;
        switch (kind)
        {
            case LinearBn:
                if (embeddingDim <= 0) throw new ArgumentOutOfRangeException(nameof(embeddingDim), embeddingDim, "must be positive");
                fc = Linear(inFeatures, embeddingDim);
                bn = BatchNorm1d(embeddingDim);
                OutFeatures = embeddingDim;
                break;
            case BnOnly:
                bn = BatchNorm1d(inFeatures);
                OutFeatures = inFeatures;
                break;
            default:
                throw new ArgumentException($"Unknown neck '{kind}'. Known: {LinearBn}, {BnOnly}", nameof(kind));
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
