using HappyWhale.Experiments;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HappyWhale.Modeling;

/// <summary>
/// Backbones by name (as timm's registry): each factory returns a feature extractor (a module that also
/// implements <see cref="IFeatureExtractor"/>) without a classifier.
/// </summary>
public static class BackboneRegistry
{
    private static readonly Dictionary<string, Func<nn.Module<Tensor, Tensor>>> Factories = new(StringComparer.Ordinal);
    private static readonly object Gate = new();

    static BackboneRegistry()
    {
        foreach (var name in EfficientNet.Variants.Keys)
            Factories[name] = () => EfficientNet.Create(name, numClasses: 0);
        foreach (var name in ResNetBackbone.Variants.Keys)
            Factories[name] = () => ResNetBackbone.Create(name);
        foreach (var name in CntkResNet.Variants.Keys)
            Factories[name] = () => CntkResNet.Create(name);
        foreach (var name in NarrowResNet.Variants.Keys)
            Factories[name] = () => NarrowResNet.Create(name);
    }

    public static IReadOnlyCollection<string> Names
    {
        get { lock (Gate) return Factories.Keys.OrderBy(k => k, StringComparer.Ordinal).ToArray(); }
    }

    public static bool Contains(string name)
    {
        lock (Gate) return Factories.ContainsKey(name);
    }

    /// <summary>Adds or replaces a backbone factory. The module it builds must implement IFeatureExtractor.</summary>
    public static void Register(string name, Func<nn.Module<Tensor, Tensor>> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);
        lock (Gate) Factories[name] = factory;
    }

    public static nn.Module<Tensor, Tensor> Create(string name)
    {
        Func<nn.Module<Tensor, Tensor>>? factory;
        lock (Gate) Factories.TryGetValue(name, out factory);
        if (factory is null)
            throw new ArgumentException($"Unknown backbone '{name}'. Known: {string.Join(", ", Names)}", nameof(name));
        var module = factory();
        if (module is not IFeatureExtractor)
        {
            module.Dispose();
            throw new InvalidOperationException($"Backbone factory '{name}' built a module that is not an IFeatureExtractor");
        }
        return module;
    }
}

/// <summary>Builds a <see cref="ReidModel"/> from the experiment's model section.</summary>
public static class ModelFactory
{
    public static readonly IReadOnlyList<string> HeadTypes = ["arcface", "subcenter"];

    /// <summary>
    /// <paramref name="numSpecies"/> sizes the species head when <c>model.species_head</c> is on; 0 builds the model
    /// without it (evaluation: the head only trains). Pretrained weights are not loaded here (see <see cref="LoadPretrained"/>).
    /// </summary>
    public static ReidModel Create(ModelSpec spec, int numClasses, int numSpecies = 0)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(spec.Head);
        if (numClasses <= 0) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "must be positive");
        if (!HeadTypes.Contains(spec.Head.Type))
            throw new ArgumentException($"Unknown head type '{spec.Head.Type}'. Known: {string.Join(", ", HeadTypes)}", nameof(spec));
        int subCenters = spec.Head.Type == "subcenter" ? spec.Head.K : 1;
        if (subCenters < 1) throw new ArgumentException($"model.head.k must be at least 1, got {spec.Head.K}", nameof(spec));

        var backbone = BackboneRegistry.Create(spec.Backbone);
        try
        {
            long channels = ReidModel.PooledFeaturesOf(backbone, spec.Backbone, spec.ConcatLastTwo);
            nn.Module<Tensor, Tensor> pool = spec.Pooling switch
            {
                "gem" => new Gem(spec.GemP, spec.GemLearnable),
                "avg" => nn.AdaptiveAvgPool2d(1),
                _ => throw new ArgumentException($"Unknown pooling '{spec.Pooling}'. Known: gem, avg", nameof(spec)),
            };
            var neck = new EmbeddingNeck(spec.Neck, channels, spec.EmbeddingDim);
            var head = new ArcMarginHead(neck.OutFeatures, numClasses, spec.Head.S, spec.Head.M, spec.Head.EasyMargin, subCenters);
            var speciesHead = spec.SpeciesHead && numSpecies > 0
                ? new ArcMarginHead(neck.OutFeatures, numSpecies, spec.Head.S, spec.Head.M, spec.Head.EasyMargin)
                : null;
            return new ReidModel(spec.Backbone, backbone, pool, neck, head, speciesHead, spec.ConcatLastTwo)
            {
                SpeciesLossWeight = spec.SpeciesLossWeight,
            };
        }
        catch
        {
            backbone.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Loads <c>model.pretrained</c> (relative to <paramref name="repoRoot"/>) into the model's backbone, honouring
    /// <c>model.pretrained_strict</c>. Returns null when no file is configured, else the import report.
    /// <c>imagenet</c> loads <paramref name="imageNetFile"/>, the converted package weights (the pretrained stage's output).
    /// </summary>
    public static WeightImportReport? LoadPretrained(ReidModel model, ModelSpec spec, string? repoRoot, string? imageNetFile = null)
    {
        if (string.IsNullOrWhiteSpace(spec.Pretrained)) return null;
        var path = ImageNetPackage.IsRequestedBy(spec.Pretrained)
            ? imageNetFile ?? throw new ArgumentException("model.pretrained: imagenet needs the converted weights file", nameof(imageNetFile))
            : RepoPath.Resolve(spec.Pretrained, repoRoot);
        return WeightImport.Load(model, path, spec.PretrainedStrict);
    }
}
