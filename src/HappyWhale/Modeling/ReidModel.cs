using HappyWhale.Experiments;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HappyWhale.Modeling;

/// <summary>
/// Re-identification model: backbone feature map -> global pooling (GeM or average) -> neck.
/// <c>forward</c> returns the embedding [N, EmbeddingDim], not L2-normalised. The ArcFace <c>head</c>
/// is part of the module (state dict <c>head.weight</c>) but is used only for training logits.
/// State-dict names: <c>backbone.features.*</c> (torchvision names under the prefix), <c>pool.*</c>,
/// <c>neck.*</c>, <c>head.*</c>.
/// </summary>
public sealed class ReidModel : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> backbone;
    private readonly nn.Module<Tensor, Tensor> pool;
    private readonly EmbeddingNeck neck;
    private readonly ArcMarginHead head;

    // Not a field: RegisterComponents registers every module-valued field, and the backbone must appear once.
    private IFeatureExtractor Extractor => (IFeatureExtractor)backbone;

    public string BackboneName { get; }
    public long FeatureChannels => Extractor.FeatureChannels;
    public long EmbeddingDim => neck.OutFeatures;

    public nn.Module<Tensor, Tensor> Backbone => backbone;
    public nn.Module<Tensor, Tensor> Pool => pool;
    public EmbeddingNeck Neck => neck;
    public ArcMarginHead Head => head;

    public ReidModel(string backboneName, nn.Module<Tensor, Tensor> backbone, nn.Module<Tensor, Tensor> pool, EmbeddingNeck neck, ArcMarginHead head)
        : base(nameof(ReidModel))
    {
        var extractor = backbone as IFeatureExtractor
            ?? throw new ArgumentException("backbone must implement IFeatureExtractor", nameof(backbone));
        if (neck.InFeatures != extractor.FeatureChannels)
            throw new ArgumentException($"neck expects {neck.InFeatures} features, backbone gives {extractor.FeatureChannels}", nameof(neck));
        if (head.EmbeddingDim != neck.OutFeatures)
            throw new ArgumentException($"head expects {head.EmbeddingDim}-d embeddings, neck gives {neck.OutFeatures}", nameof(head));
        BackboneName = backboneName;
        this.backbone = backbone;
        this.pool = pool;
        this.neck = neck;
        this.head = head;
        RegisterComponents();
    }

    /// <summary>Pooled backbone features [N, FeatureChannels] (before the neck).</summary>
    public Tensor ForwardPooled(Tensor x)
    {
        using var f = Extractor.ForwardFeatures(x);
        using var p = pool.call(f);
        return p.flatten(1);
    }

    /// <summary>Embedding [N, EmbeddingDim], not normalised.</summary>
    public override Tensor forward(Tensor x)
    {
        using var pooled = ForwardPooled(x);
        return neck.call(pooled);
    }

    /// <summary>ArcFace training logits for a batch of embeddings.</summary>
    public Tensor Logits(Tensor embeddings, Tensor labels, Tensor? classMargins = null) =>
        head.Forward(embeddings, labels, classMargins);
}
