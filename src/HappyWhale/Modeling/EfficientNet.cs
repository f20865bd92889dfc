using System.Runtime.CompilerServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HappyWhale.Modeling;

/// <summary>
/// EfficientNet B0-B7 with torchvision's module tree, so state-dict names and shapes match
/// torchvision.models.efficientnet_bN exactly (features.*, avgpool, classifier.1.*).
/// </summary>
public sealed class EfficientNet : Module<Tensor, Tensor>, IFeatureExtractor, IMultiStageExtractor, IStagedBackbone
{
    /// <summary>Per-variant scaling as in torchvision: width, depth, classifier dropout, BatchNorm eps/momentum.</summary>
    public sealed record Variant(string Name, double WidthMult, double DepthMult, double Dropout, double BnEps, double BnMomentum);

    public static readonly IReadOnlyDictionary<string, Variant> Variants = new Dictionary<string, Variant>
    {
        ["efficientnet_b0"] = new("efficientnet_b0", 1.0, 1.0, 0.2, 1e-5, 0.1),
        ["efficientnet_b1"] = new("efficientnet_b1", 1.0, 1.1, 0.2, 1e-5, 0.1),
        ["efficientnet_b2"] = new("efficientnet_b2", 1.1, 1.2, 0.3, 1e-5, 0.1),
        ["efficientnet_b3"] = new("efficientnet_b3", 1.2, 1.4, 0.3, 1e-5, 0.1),
        ["efficientnet_b4"] = new("efficientnet_b4", 1.4, 1.8, 0.4, 1e-5, 0.1),
        ["efficientnet_b5"] = new("efficientnet_b5", 1.6, 2.2, 0.4, 1e-3, 0.01),
        ["efficientnet_b6"] = new("efficientnet_b6", 1.8, 2.6, 0.5, 1e-3, 0.01),
        ["efficientnet_b7"] = new("efficientnet_b7", 2.0, 3.1, 0.5, 1e-3, 0.01),
    };

    /// <summary>Every variant into <see cref="Backbones"/>.</summary>
#pragma warning disable CA2255 // registering as the assembly loads is the point: the registry names no family
    [ModuleInitializer]
    internal static void RegisterBackbones()
    {
        foreach (var name in Variants.Keys) Backbones.Register(name, () => Create(name, numClasses: 0));
    }
#pragma warning restore CA2255

    // Stage table of the EfficientNet paper (B0 before scaling):
    // expand ratio, kernel, stride, input channels, output channels, layers.
    private static readonly (double Expand, int Kernel, int Stride, int In, int Out, int Layers)[] BaseStages =
    [
        (1, 3, 1, 32, 16, 1),
        (6, 3, 2, 16, 24, 2),
        (6, 5, 2, 24, 40, 2),
        (6, 3, 2, 40, 80, 3),
        (6, 5, 1, 80, 112, 3),
        (6, 5, 2, 112, 192, 4),
        (6, 3, 1, 192, 320, 1),
    ];

    private readonly Sequential features;
    // The children of features, in order (not a second registration: the same modules).
    readonly List<Module<Tensor, Tensor>> featureStages;
    private readonly AdaptiveAvgPool2d? avgpool;
    private readonly Sequential? classifier;

    public Variant Config { get; }
    public long FeatureChannels { get; }
    public long PenultimateChannels { get; }
    public int NumClasses { get; }

    /// <summary>
    /// Builds a torchvision-compatible EfficientNet. <paramref name="numClasses"/> &lt;= 0 builds the
    /// feature extractor only (no avgpool, no classifier), as a ReidModel backbone uses it.
    /// </summary>
    public static EfficientNet Create(string variant, int numClasses = 1000, double stochasticDepthProb = 0.2)
    {
        if (!Variants.TryGetValue(variant, out var v))
            throw new ArgumentException($"Unknown EfficientNet variant '{variant}'. Known: {string.Join(", ", Variants.Keys)}", nameof(variant));
        return new EfficientNet(v, numClasses, stochasticDepthProb);
    }

    private EfficientNet(Variant v, int numClasses, double stochasticDepthProb) : base(v.Name)
    {
        Config = v;
        NumClasses = numClasses;
        var layers = new List<Module<Tensor, Tensor>>();

        var stages = BaseStages.Select(s => (
            s.Expand, s.Kernel, s.Stride,
            In: AdjustChannels(s.In, v.WidthMult),
            Out: AdjustChannels(s.Out, v.WidthMult),
            Layers: AdjustDepth(s.Layers, v.DepthMult))).ToArray();

        int stemOut = stages[0].In;
        layers.Add(ConvNormAct(3, stemOut, 3, 2, 1, v, activation: true));

        int totalBlocks = stages.Sum(s => s.Layers);
        int blockId = 0;
        foreach (var s in stages)
        {
            var stage = new List<Module<Tensor, Tensor>>();
            for (int i = 0; i < s.Layers; i++)
            {
                int inCh = i == 0 ? s.In : s.Out;
                int stride = i == 0 ? s.Stride : 1;
                double sdProb = stochasticDepthProb * blockId / totalBlocks;
                stage.Add(new MBConv(inCh, s.Out, s.Expand, s.Kernel, stride, sdProb, v));
                blockId++;
            }
            layers.Add(Sequential(stage.ToArray()));
        }

        int lastIn = stages[^1].Out;
        int lastOut = 4 * lastIn;
        layers.Add(ConvNormAct(lastIn, lastOut, 1, 1, 1, v, activation: true));
        FeatureChannels = lastOut;
        PenultimateChannels = lastIn;

        features = Sequential(layers.ToArray());
        featureStages = layers;
        if (numClasses > 0)
        {
            avgpool = AdaptiveAvgPool2d(1);
            classifier = Sequential(Dropout(v.Dropout), Linear(lastOut, numClasses));
        }

        RegisterComponents();
        InitWeights();
    }

    /// <summary>torchvision's _make_divisible: round to the nearest multiple of divisor, never below 90% of v.</summary>
    public static int MakeDivisible(double v, int divisor = 8, int? minValue = null)
    {
        int min = minValue ?? divisor;
        int rounded = Math.Max(min, (int)(v + divisor / 2.0) / divisor * divisor);
        if (rounded < 0.9 * v) rounded += divisor;
        return rounded;
    }

    public static int AdjustChannels(int channels, double widthMult) => MakeDivisible(channels * widthMult, 8);

    public static int AdjustDepth(int layers, double depthMult) => (int)Math.Ceiling(layers * depthMult);

    /// <summary>torchvision's Conv2dNormActivation: Sequential(0: Conv2d without bias, 1: BatchNorm2d, 2: SiLU).</summary>
    internal static Sequential ConvNormAct(long inCh, long outCh, long kernel, long stride, long groups, Variant v, bool activation)
    {
        Module<Tensor, Tensor> conv = groups > 1 && groups == inCh && groups == outCh
            ? new DepthwiseConv2d(inCh, kernel, stride)
            : Conv2d(inCh, outCh, kernel, stride: stride, padding: (kernel - 1) / 2, groups: groups, bias: false);
        var bn = BatchNorm2d(outCh, eps: v.BnEps, momentum: v.BnMomentum);
        return activation ? Sequential(conv, bn, SiLU(inplace: true)) : Sequential(conv, bn);
    }

    private void InitWeights()
    {
        using var _ = no_grad();
        foreach (var m in modules())
        {
            switch (m)
            {
                case Conv2d conv:
                    init.kaiming_normal_(conv.weight, mode: init.FanInOut.FanOut);
                    if (conv.bias is not null) init.zeros_(conv.bias);
                    break;
                case DepthwiseConv2d depthwise:
                    init.kaiming_normal_(depthwise.Weight, mode: init.FanInOut.FanOut);
                    break;
                case BatchNorm2d bn:
                    if (bn.weight is not null) init.ones_(bn.weight);
                    if (bn.bias is not null) init.zeros_(bn.bias);
                    break;
                case Linear lin:
                    double range = 1.0 / Math.Sqrt(lin.out_features);
                    init.uniform_(lin.weight, -range, range);
                    if (lin.bias is not null) init.zeros_(lin.bias);
                    break;
            }
        }
    }

    /// <summary>Output of <c>features</c>: [N, FeatureChannels, H/32, W/32].</summary>
    public Tensor ForwardFeatures(Tensor x) => features.call(x);

    /// <summary>Outputs of features[^2] (the last MBConv stage) and features[^1] (the final 1x1 conv).</summary>
    public (Tensor Previous, Tensor Last) ForwardLastTwo(Tensor x) => IMultiStageExtractor.RunLastTwo(featureStages, x);

    /// <summary>features.i -> stage i (0 is the stem); avgpool/classifier -> one past the last stage.</summary>
    public int StageOf(string parameterName)
    {
        const string prefix = "features.";
        if (!parameterName.StartsWith(prefix, StringComparison.Ordinal)) return features.children().Count();
        var rest = parameterName[prefix.Length..];
        int dot = rest.IndexOf('.');
        return int.Parse(dot < 0 ? rest : rest[..dot], System.Globalization.CultureInfo.InvariantCulture);
    }

    public override Tensor forward(Tensor x)
    {
        if (classifier is null || avgpool is null)
            return ForwardFeatures(x);
        using var f = features.call(x);
        using var pooled = avgpool.call(f);
        using var flat = pooled.flatten(1);
        return classifier.call(flat);
    }
}

/// <summary>torchvision's MBConv: block = [expand CNA]?, depthwise CNA, SqueezeExcitation, project CN; residual with stochastic depth.</summary>
internal sealed class MBConv : Module<Tensor, Tensor>
{
    private readonly Sequential block;
    private readonly StochasticDepth stochastic_depth;
    private readonly bool useResidual;

    public MBConv(int inCh, int outCh, double expandRatio, int kernel, int stride, double sdProb, EfficientNet.Variant v)
        : base(nameof(MBConv))
    {
        useResidual = stride == 1 && inCh == outCh;
        var layers = new List<Module<Tensor, Tensor>>();
        int expanded = EfficientNet.AdjustChannels(inCh, expandRatio);
        if (expanded != inCh)
            layers.Add(EfficientNet.ConvNormAct(inCh, expanded, 1, 1, 1, v, activation: true));
        layers.Add(EfficientNet.ConvNormAct(expanded, expanded, kernel, stride, expanded, v, activation: true));
        layers.Add(new SqueezeExcitation(expanded, Math.Max(1, inCh / 4)));
        layers.Add(EfficientNet.ConvNormAct(expanded, outCh, 1, 1, 1, v, activation: false));
        block = Sequential(layers.ToArray());
        stochastic_depth = new StochasticDepth(sdProb);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var result = block.call(x);
        if (!useResidual) return result;
        var dropped = stochastic_depth.call(result);
        result.Dispose();
        return dropped.add_(x);
    }
}
