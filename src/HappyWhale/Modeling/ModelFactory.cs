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
    public static ReidModel Create(ModelSpec spec, int numClasses)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(spec.Head);
        if (numClasses <= 0) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "must be positive");
        if (spec.Head.Type != "arcface")
            throw new ArgumentException($"Unknown head type '{spec.Head.Type}'. Known: arcface", nameof(spec));

        var backbone = BackboneRegistry.Create(spec.Backbone);
        try
        {
            long channels = ((IFeatureExtractor)backbone).FeatureChannels;
            nn.Module<Tensor, Tensor> pool = spec.Pooling switch
            {
                "gem" => new Gem(spec.GemP),
                "avg" => nn.AdaptiveAvgPool2d(1),
                _ => throw new ArgumentException($"Unknown pooling '{spec.Pooling}'. Known: gem, avg", nameof(spec)),
            };
            var neck = new EmbeddingNeck(spec.Neck, channels, spec.EmbeddingDim);
            var head = new ArcMarginHead(neck.OutFeatures, numClasses, spec.Head.S, spec.Head.M, spec.Head.EasyMargin);
            return new ReidModel(spec.Backbone, backbone, pool, neck, head);
        }
        catch
        {
            backbone.Dispose();
            throw;
        }
    }
}
