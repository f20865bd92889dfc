using HappyWhale.Experiments;
using HappyWhale.Imaging;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HappyWhale.Modeling;

/// <summary>
/// Re-identification model: backbone feature map -> global pooling (GeM or average) -> neck.
/// <c>forward</c> returns the embedding [N, EmbeddingDim], not L2-normalised. The ArcFace <c>head</c>
/// is part of the module (state dict <c>head.weight</c>) but is used only for training logits; so is the
/// optional species head (<c>species_head.weight</c>). With <see cref="ConcatLastTwo"/> the pooled features
/// of the last two backbone stages are concatenated before the neck.
/// State-dict names: <c>backbone.*</c> (torchvision names under the prefix), <c>pool.*</c>,
/// <c>neck.*</c>, <c>head.*</c>, <c>species_head.*</c>.
/// </summary>
public sealed class ReidModel : nn.Module<Tensor, Tensor>, IInputNormalization
{
    public const string GroupStem = "stem", GroupEarly = "early", GroupLate = "late", GroupNeck = "neck", GroupHead = "head";

    private readonly nn.Module<Tensor, Tensor> backbone;
    private readonly nn.Module<Tensor, Tensor> pool;
    private readonly EmbeddingNeck neck;
    private readonly ArcMarginHead head;
    private readonly ArcMarginHead? species_head;

    // Not a field: RegisterComponents registers every module-valued field, and the backbone must appear once.
    private IFeatureExtractor Extractor => (IFeatureExtractor)backbone;

    public string BackboneName { get; }
    public bool ConcatLastTwo { get; }
    public long FeatureChannels => Extractor.FeatureChannels;
    public long PooledFeatures => PooledFeaturesOf(backbone, BackboneName, ConcatLastTwo);

    /// <summary>Channels after pooling: the last stage's, plus the one before with concat_last_two (which the backbone must support).</summary>
    public static long PooledFeaturesOf(nn.Module<Tensor, Tensor> backbone, string backboneName, bool concatLastTwo)
    {
        var extractor = backbone as IFeatureExtractor
            ?? throw new ArgumentException("backbone must implement IFeatureExtractor", nameof(backbone));
        if (!concatLastTwo) return extractor.FeatureChannels;
        return backbone is IMultiStageExtractor multi
            ? extractor.FeatureChannels + multi.PenultimateChannels
            : throw new ArgumentException($"backbone '{backboneName}' cannot return its last two stages (concat_last_two)", nameof(concatLastTwo));
    }
    public long EmbeddingDim => neck.OutFeatures;

    /// <summary>Weight of the species loss added by the trainer when there is a species head.</summary>
    public double SpeciesLossWeight { get; init; }

    public nn.Module<Tensor, Tensor> Backbone => backbone;
    public nn.Module<Tensor, Tensor> Pool => pool;
    public EmbeddingNeck Neck => neck;
    public ArcMarginHead Head => head;
    public ArcMarginHead? SpeciesHead => species_head;

    public ReidModel(string backboneName, nn.Module<Tensor, Tensor> backbone, nn.Module<Tensor, Tensor> pool, EmbeddingNeck neck, ArcMarginHead head,
        ArcMarginHead? speciesHead = null, bool concatLastTwo = false)
        : base(nameof(ReidModel))
    {
        PooledFeaturesOf(backbone, backboneName, concatLastTwo);   // checks the backbone before anything is kept
        BackboneName = backboneName;
        ConcatLastTwo = concatLastTwo;
        this.backbone = backbone;
        if (neck.InFeatures != PooledFeatures)
            throw new ArgumentException($"neck expects {neck.InFeatures} features, backbone gives {PooledFeatures}", nameof(neck));
        if (head.EmbeddingDim != neck.OutFeatures)
            throw new ArgumentException($"head expects {head.EmbeddingDim}-d embeddings, neck gives {neck.OutFeatures}", nameof(head));
        if (speciesHead is not null && speciesHead.EmbeddingDim != neck.OutFeatures)
            throw new ArgumentException($"species head expects {speciesHead.EmbeddingDim}-d embeddings, neck gives {neck.OutFeatures}", nameof(speciesHead));
        this.pool = pool;
        this.neck = neck;
        this.head = head;
        species_head = speciesHead;
        RegisterComponents();
    }

    /// <summary>model.input_norm: the backbone's expected statistics, or the inverted image.</summary>
    public InputNorm InputNorm { get; init; }

    /// <summary>
    /// What the backbone's weights expect (its own normalisation, else torchvision's ImageNet mean/std), or with
    /// <see cref="InputNorm.Inverted"/> 1 - x: drawings then enter as strokes near 1 on a zero background, the way the
    /// Omniglot literature feeds them (measured on omniglot_oneshot: within the seed noise, README).
    /// </summary>
    public Tensor NormalizeInput(Tensor batch01) =>
        InputNorm == InputNorm.Inverted ? InvertedImage.Apply(batch01) : InputNormalization.Apply(backbone, batch01);

    /// <summary>Pooled backbone features [N, PooledFeatures] (before the neck).</summary>
    public Tensor ForwardPooled(Tensor x)
    {
        if (!ConcatLastTwo)
        {
            using var f = Extractor.ForwardFeatures(x);
            using var p = pool.call(f);
            return p.flatten(1);
        }
        using var scope = NewDisposeScope();
        var (previous, last) = ((IMultiStageExtractor)backbone).ForwardLastTwo(x);
        var joined = torch.cat([pool.call(last).flatten(1), pool.call(previous).flatten(1)], 1);
        return joined.MoveToOuterDisposeScope();
    }

    /// <summary>Embedding [N, EmbeddingDim], not normalised.</summary>
    public override Tensor forward(Tensor x)
    {
        using var pooled = ForwardPooled(x);
        return neck.call(pooled);
    }

    /// <summary>The embedding and the pooled features it came from, from one backbone pass (evaluate.feature: embedding_and_pooled).</summary>
    public (Tensor Embedding, Tensor Pooled) ForwardWithPooled(Tensor x)
    {
        var pooled = ForwardPooled(x);
        return (neck.call(pooled), pooled);
    }

    /// <summary>ArcFace training logits for a batch of embeddings; <paramref name="classMargins"/> [numClasses] for dynamic margins.</summary>
    /// <paramref name="marginScale"/> multiplies the margin(s) (model.head.margin_warmup; 1 = as configured).
    public Tensor Logits(Tensor embeddings, Tensor labels, Tensor? classMargins = null, double marginScale = 1.0) =>
        head.Forward(embeddings, labels, classMargins, marginScale);

    /// <summary>Species ArcFace logits (requires a species head).</summary>
    public Tensor SpeciesLogits(Tensor embeddings, Tensor speciesLabels) =>
        (species_head ?? throw new InvalidOperationException("this model has no species head")).Forward(embeddings, speciesLabels);

    /// <summary>
    /// Loads a checkpoint written by <c>save</c>. A model built without a species head (evaluation needs none)
    /// skips the checkpoint's <c>species_head.*</c> entries.
    /// </summary>
    public void LoadCheckpoint(string path)
    {
        if (species_head is not null) { load(path); return; }
        // TorchSharp's strict load also compares entry counts, so load by name and check that every entry arrived.
        var loaded = new Dictionary<string, bool>();
        load(path, strict: false, skip: ["species_head.weight"], loadedParameters: loaded);
        var absent = state_dict().Keys.Where(k => !loaded.GetValueOrDefault(k)).ToList();
        if (absent.Count > 0)
            throw new InvalidOperationException($"checkpoint {path} lacks {absent.Count} entries of this model, e.g. {string.Join(", ", absent.Take(5))}");
    }

    /// <summary>
    /// Parameters in named groups for differential learning rates; every parameter is in exactly one group:
    /// <list type="bullet">
    /// <item><c>stem</c>: backbone stage 0 (EfficientNet features.0; ResNet conv1 + bn1)</item>
    /// <item><c>early</c>: backbone stages 1 .. earlyUntil-1 (EfficientNet features.1..features.{earlyUntil-1}; ResNet layer1..layer{earlyUntil-1})</item>
    /// <item><c>late</c>: the rest of the backbone (EfficientNet features.{earlyUntil}..features.8; ResNet layer{earlyUntil}..layer4)</item>
    /// <item><c>neck</c>: pooling (a learnable GeM p) and the neck</item>
    /// <item><c>head</c>: the ArcFace head and the species head</item>
    /// </list>
    /// Groups are listed in that order, empty ones included.
    /// </summary>
    public IReadOnlyList<(string Name, IReadOnlyList<Parameter> Parameters)> ParameterGroups(int earlyUntil = 4)
    {
        if (earlyUntil < 1) throw new ArgumentOutOfRangeException(nameof(earlyUntil), earlyUntil, "must be at least 1 (stage 0 is the stem)");
        var groups = new[] { GroupStem, GroupEarly, GroupLate, GroupNeck, GroupHead }.ToDictionary(g => g, _ => new List<Parameter>());
        var staged = backbone as IStagedBackbone;
        foreach (var (name, p) in named_parameters())
        {
            string group;
            if (name.StartsWith("backbone.", StringComparison.Ordinal))
            {
                int stage = staged?.StageOf(name["backbone.".Length..]) ?? earlyUntil;
                group = stage == 0 ? GroupStem : stage < earlyUntil ? GroupEarly : GroupLate;
            }
            else if (name.StartsWith("pool.", StringComparison.Ordinal) || name.StartsWith("neck.", StringComparison.Ordinal))
                group = GroupNeck;
            else
                group = GroupHead;
            groups[group].Add(p);
        }
        return groups.Select(g => (g.Key, (IReadOnlyList<Parameter>)g.Value)).ToList();
    }
}
