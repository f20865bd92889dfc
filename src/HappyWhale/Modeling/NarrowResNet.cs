using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HappyWhale.Modeling;

/// <summary>
/// A small ResNet for small images (model.backbone: resnet10_narrow): a 3x3 stride-2 stem without max pooling, then
/// one basic block per stage at widths 32, 64, 128, 256, stages 2-4 halving the map (32 px in, 2x2x256 out;
/// about 1.2 M parameters, a tenth of ResNet-18). Module names follow torchvision's (conv1, bn1, layer1..layer4 with
/// blocks .0.conv1/.bn1/.conv2/.bn2/.downsample), so parameter groups and stage numbers work as for ResNet-18.
/// Convolutions start from Kaiming-normal (fan out) weights, BatchNorm from 1 and 0.
/// </summary>
public sealed class NarrowResNet : nn.Module<Tensor, Tensor>, IFeatureExtractor, IMultiStageExtractor, IStagedBackbone
{
    public static readonly IReadOnlyDictionary<string, long[]> Variants = new Dictionary<string, long[]>
    {
        ["resnet10_narrow"] = [32, 64, 128, 256],
    };

    /// <summary>Every variant into <see cref="Backbones"/>.</summary>
#pragma warning disable CA2255 // registering as the assembly loads is the point: the registry names no family
    [System.Runtime.CompilerServices.ModuleInitializer]
    internal static void RegisterBackbones()
    {
        foreach (var name in Variants.Keys) Backbones.Register(name, () => Create(name));
    }
#pragma warning restore CA2255

    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Sequential layer1, layer2, layer3, layer4;

    public long FeatureChannels { get; }
    public long PenultimateChannels { get; }

    public static NarrowResNet Create(string variant) =>
        Variants.TryGetValue(variant, out var widths)
            ? new NarrowResNet(variant, widths)
            : throw new ArgumentException($"Unknown narrow ResNet '{variant}'. Known: {string.Join(", ", Variants.Keys)}", nameof(variant));

    NarrowResNet(string name, long[] widths) : base(name)
    {
        conv1 = nn.Conv2d(3, widths[0], 3, stride: 2, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(widths[0]);
        layer1 = nn.Sequential(("0", new NarrowBasicBlock(widths[0], widths[0], 1)));
        layer2 = nn.Sequential(("0", new NarrowBasicBlock(widths[0], widths[1], 2)));
        layer3 = nn.Sequential(("0", new NarrowBasicBlock(widths[1], widths[2], 2)));
        layer4 = nn.Sequential(("0", new NarrowBasicBlock(widths[2], widths[3], 2)));
        FeatureChannels = widths[3];
        PenultimateChannels = widths[2];
        RegisterComponents();
        using var _ = no_grad();
        foreach (var (_, module) in named_modules())
        {
            if (module is Conv2d conv) nn.init.kaiming_normal_(conv.weight, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
            else if (module is BatchNorm2d bn) { nn.init.ones_(bn.weight); nn.init.zeros_(bn.bias); }
        }
    }

    Tensor Stem(Tensor x)
    {
        using var c = conv1.call(x);
        using var b = bn1.call(c);
        return nn.functional.relu(b);
    }

    public Tensor ForwardFeatures(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = layer4.call(layer3.call(layer2.call(layer1.call(Stem(x)))));
        return h.MoveToOuterDisposeScope();
    }

    public (Tensor Previous, Tensor Last) ForwardLastTwo(Tensor x)
    {
        using var scope = NewDisposeScope();
        var previous = layer3.call(layer2.call(layer1.call(Stem(x))));
        var last = layer4.call(previous);
        return (previous.MoveToOuterDisposeScope(), last.MoveToOuterDisposeScope());
    }

    /// <summary>Stage 0 = conv1 + bn1, stage k = layer k (torchvision's ResNet numbering).</summary>
    public int StageOf(string parameterName) => ResNetBackbone.StageOfLayerName(parameterName);

    public override Tensor forward(Tensor x) => ForwardFeatures(x);
}

/// <summary>Two 3x3 convolutions with BatchNorm and a residual; a 1x1 projection with BatchNorm when the shape changes.</summary>
public sealed class NarrowBasicBlock : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1, conv2;
    private readonly BatchNorm2d bn1, bn2;
    private readonly Sequential? downsample;

    public NarrowBasicBlock(long inChannels, long outChannels, int stride) : base(nameof(NarrowBasicBlock))
    {
        conv1 = nn.Conv2d(inChannels, outChannels, 3, stride: stride, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(outChannels);
        conv2 = nn.Conv2d(outChannels, outChannels, 3, stride: 1, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(outChannels);
        if (stride != 1 || inChannels != outChannels)
            downsample = nn.Sequential(nn.Conv2d(inChannels, outChannels, 1, stride: stride, bias: false), nn.BatchNorm2d(outChannels));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = nn.functional.relu(bn1.call(conv1.call(x)));
        h = bn2.call(conv2.call(h));
        var identity = downsample is null ? x : downsample.call(x);
        return nn.functional.relu(h.add_(identity)).MoveToOuterDisposeScope();
    }
}
