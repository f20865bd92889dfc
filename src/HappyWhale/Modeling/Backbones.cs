using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Modeling;

/// <summary>
/// Backbones by name, as timm's registry: each family's file registers its variants as the assembly loads (a
/// [ModuleInitializer] next to the family, as timm's @register_model), so adding a family touches no other file;
/// <see cref="Create"/> is the one way to build one. Each factory returns a feature extractor (a module that also
/// implements <see cref="IFeatureExtractor"/>) without a classifier. experiments/defaults.yaml lists the same names
/// as model.backbone's choices (a test holds the two equal).
/// </summary>
public static class Backbones
{
    private static readonly Dictionary<string, Func<nn.Module<Tensor, Tensor>>> Factories = new(StringComparer.Ordinal);
    private static readonly object Gate = new();

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
