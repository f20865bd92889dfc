using System.Runtime.CompilerServices;
using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Modeling;

/// <summary>
/// ResNet-18/34/50 from TorchSharp's TorchVision as a feature extractor: torchvision's modules
/// <c>conv1, bn1, relu, maxpool, layer1..layer4</c> under their torchvision names (so a torchvision
/// state dict loads by name), without <c>avgpool</c> and <c>fc</c>.
/// </summary>
public sealed class ResNetBackbone : nn.Module<Tensor, Tensor>, IFeatureExtractor, IMultiStageExtractor, IStagedBackbone
{
    static readonly HashSet<string> Dropped = ["avgpool", "flatten", "fc"];
    static readonly string[] Order = ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4"];

    public static readonly IReadOnlyDictionary<string, (Func<TorchSharp.Modules.ResNet> Build, long Channels, long Penultimate)> Variants =
        new Dictionary<string, (Func<TorchSharp.Modules.ResNet>, long, long)>
        {
            ["resnet18"] = (() => torchvision.models.resnet18(), 512, 256),
            ["resnet34"] = (() => torchvision.models.resnet34(), 512, 256),
            ["resnet50"] = (() => torchvision.models.resnet50(), 2048, 1024),
        };

    /// <summary>Every variant into <see cref="Backbones"/>.</summary>
#pragma warning disable CA2255 // registering as the assembly loads is the point: the registry names no family
    [ModuleInitializer]
    internal static void RegisterBackbones()
    {
        foreach (var name in Variants.Keys) Backbones.Register(name, () => Create(name));
    }
#pragma warning restore CA2255

    readonly List<nn.Module<Tensor, Tensor>> stages = [];

    public string Variant { get; }
    public long FeatureChannels { get; }
    public long PenultimateChannels { get; }

    public static ResNetBackbone Create(string variant)
    {
        if (!Variants.TryGetValue(variant, out var v))
            throw new ArgumentException($"Unknown ResNet variant '{variant}'. Known: {string.Join(", ", Variants.Keys)}", nameof(variant));
        return new ResNetBackbone(variant, v.Build(), v.Channels, v.Penultimate);
    }

    ResNetBackbone(string variant, TorchSharp.Modules.ResNet full, long channels, long penultimate) : base(variant)
    {
        Variant = variant;
        FeatureChannels = channels;
        PenultimateChannels = penultimate;
        var children = full.named_children().ToDictionary(c => c.name, c => c.module);
        foreach (var name in Order)
        {
            if (!children.TryGetValue(name, out var m) || m is not nn.Module<Tensor, Tensor> typed)
                throw new InvalidOperationException($"torchvision {variant} has no module '{name}'");
            register_module(name, typed);
            stages.Add(typed);
        }
        foreach (var (name, m) in children)
            if (Dropped.Contains(name)) m.Dispose();
    }

    public Tensor ForwardFeatures(Tensor x) => RunStages(stages, x);

    /// <summary>Outputs of layer3 and layer4.</summary>
    public (Tensor Previous, Tensor Last) ForwardLastTwo(Tensor x) => IMultiStageExtractor.RunLastTwo(stages, x);

    /// <summary>Stage 0 = conv1 + bn1 (the stem), stage k = layer k.</summary>
    public int StageOf(string parameterName) => StageOfLayerName(parameterName);

    /// <summary>The stem and layers in order; the last one's feature map.</summary>
    internal static Tensor RunStages(IReadOnlyList<nn.Module<Tensor, Tensor>> stages, Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = x;
        foreach (var m in stages) h = m.call(h);
        return h.MoveToOuterDisposeScope();
    }

    /// <summary>torchvision's ResNet names: layer k's parameters are stage k, everything else the stem (0).</summary>
    internal static int StageOfLayerName(string parameterName)
    {
        for (int k = 1; k <= 4; k++)
            if (parameterName.StartsWith($"layer{k}.", StringComparison.Ordinal)) return k;
        return 0;
    }

    public override Tensor forward(Tensor x) => ForwardFeatures(x);
}
