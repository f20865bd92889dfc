using System.Runtime.CompilerServices;
using HappyWhale.Imaging;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HappyWhale.Modeling;

/// <summary>
/// How a strided convolution or pool pads an axis of length n for kernel k and stride s (out = ceil(n / s)).
/// <list type="bullet">
/// <item><c>Cntk</c>: CNTK's auto-padding as the ONNX export writes it: (k - 1) / 2 before, and after only
/// what the last window reaches (at 224 px: [3, 2] for the 7x7 stem, [1, 0] for the stride-2 3x3 ops).</item>
/// <item><c>Symmetric</c>: torchvision's (k - 1) / 2 on both sides. Its extra padding after the last window
/// is never read, so it computes the same as <c>Cntk</c> at every size (the conformance test checks this).</item>
/// <item><c>EndHeavy</c>: the same total with the larger half after (TensorFlow's and ONNX SAME_UPPER's
/// convention): every window moves by a pixel; the conformance test's counter-example.</item>
/// </list>
/// </summary>
public enum StridePadding { Cntk, Symmetric, EndHeavy }

/// <summary>How the 224 x 224 mean image is subtracted from an input of another size.</summary>
public enum MeanAtOtherSizes { Resampled, PerChannel }

/// <summary>
/// The ResNet-18 that ML.NET's DnnImageFeaturizer ships as ONNX (exported from CNTK 2.6): basic blocks
/// [2, 2, 2, 3] of widths 64-128-256-512, with 1x1 stride-2 projections opening stages 2-4, and CNTK's
/// asymmetric padding of stride-2 operations written out as explicit pads (see <see cref="StridePadding"/>;
/// at 224 px, stem conv: 3 top/left and 2 bottom/right; stride-2 3x3 convolutions and the max pool:
/// 1 top/left, 0 bottom/right). Its
/// input is what ResNetPreprocess.onnx makes of an image: BGR order, 0-255, minus a 3x224x224 mean
/// image, kept here as the buffer <c>input_mean</c> so a checkpoint carries its own normalisation.
/// Names follow torchvision's (conv1, bn1, layer1..layer4 with conv1/bn1/conv2/bn2/downsample) so
/// parameter groups and freezing treat it like the other ResNets.
/// </summary>
public sealed class CntkResNet : nn.Module<Tensor, Tensor>, IFeatureExtractor, IMultiStageExtractor, IStagedBackbone, IInputNormalization
{
    public const string ImageNet18 = "resnet18_imagenet_cntk";
    public const int MeanImageSize = 224;
    public const double BatchNormEps = 1e-5;

    public static readonly IReadOnlyDictionary<string, int[]> Variants = new Dictionary<string, int[]>
    {
        [ImageNet18] = [2, 2, 2, 3],
    };

    /// <summary>Every variant into <see cref="Backbones"/>.</summary>
#pragma warning disable CA2255 // registering as the assembly loads is the point: the registry names no family
    [ModuleInitializer]
    internal static void RegisterBackbones()
    {
        foreach (var name in Variants.Keys) Backbones.Register(name, () => Create(name));
    }
#pragma warning restore CA2255

    static readonly long[] Widths = [64, 128, 256, 512];

    // The per-channel means (B, G, R) of ResNetPreprocess.onnx's mean image (its spatial sd is 3-6 levels),
    // so a model trained from scratch sees inputs on the pretrained weights' scale; `imagenet` loads the image.
    public static readonly float[] ChannelMeansBgr = [103.0626f, 115.9029f, 123.1516f];

    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Sequential layer1, layer2, layer3, layer4;
    private readonly Tensor input_mean;
    readonly List<nn.Module<Tensor, Tensor>> stages;
    readonly StridePadding padding;
    readonly MeanAtOtherSizes meanMode;

    public string Variant { get; }
    public StridePadding Padding { get; }
    public long FeatureChannels => Widths[^1];
    public long PenultimateChannels => Widths[^2];
    public IReadOnlyList<int> Blocks { get; }

    public static CntkResNet Create(string variant, StridePadding padding = StridePadding.Cntk, MeanAtOtherSizes mean = MeanAtOtherSizes.Resampled)
    {
        if (!Variants.TryGetValue(variant, out var blocks))
            throw new ArgumentException($"Unknown CNTK ResNet variant '{variant}'. Known: {string.Join(", ", Variants.Keys)}", nameof(variant));
        return new CntkResNet(variant, blocks, padding, mean);
    }

    CntkResNet(string variant, int[] blocks, StridePadding padding, MeanAtOtherSizes meanMode) : base(variant)
    {
        Variant = variant;
        Blocks = blocks;
        this.padding = padding;
        this.meanMode = meanMode;
        // Strided operations pad explicitly in forward (StridedPad), so their modules pad nothing.
        conv1 = nn.Conv2d(3, 64, 7, stride: 2, padding: 0L, bias: false);
        bn1 = nn.BatchNorm2d(64, eps: CntkResNet.BatchNormEps);
        var layers = new Sequential[4];
        long inChannels = 64;
        for (int s = 0; s < 4; s++)
        {
            var stage = new List<(string, nn.Module<Tensor, Tensor>)>();
            for (int b = 0; b < blocks[s]; b++)
            {
                int stride = s > 0 && b == 0 ? 2 : 1;
                stage.Add(($"{b}", new CntkBasicBlock($"layer{s + 1}.{b}", inChannels, Widths[s], stride, padding)));
                inChannels = Widths[s];
            }
            layers[s] = nn.Sequential(stage);
        }
        (layer1, layer2, layer3, layer4) = (layers[0], layers[1], layers[2], layers[3]);
        input_mean = tensor(ChannelMeansBgr).view(1, 3, 1, 1).expand(1, 3, MeanImageSize, MeanImageSize).contiguous();
        RegisterComponents();
        stages = [new Stem(conv1, bn1, padding), layer1, layer2, layer3, layer4];
        Padding = padding;
    }

    /// <summary>
    /// A [0, 1] RGB batch as the CNTK weights expect it: BGR, 0-255, minus the mean image (at 224 px
    /// exactly; at other sizes resampled, or its per-channel means). Gray images (three equal channels)
    /// stay three channels, so the pretrained stem applies unchanged.
    /// </summary>
    public Tensor NormalizeInput(Tensor batch01)
    {
        using var scope = NewDisposeScope();
        var bgr = batch01.flip(1).mul(Scalars.Of(255.0));
        var mean = MeanFor(batch01.shape[2], batch01.shape[3]).to(batch01.device);
        return bgr.sub(mean).MoveToOuterDisposeScope();
    }

    /// <summary>The mean subtracted at an input size: [1, 3, h, w] or [1, 3, 1, 1].</summary>
    public Tensor MeanFor(long height, long width)
    {
        if (height == MeanImageSize && width == MeanImageSize) return input_mean.alias();
        if (meanMode == MeanAtOtherSizes.PerChannel) return input_mean.mean([2, 3], keepdim: true);
        // Shrinking averages the mean image over each output pixel's footprint; growing interpolates.
        var mode = height <= MeanImageSize && width <= MeanImageSize ? InterpolationMode.Area : InterpolationMode.Bilinear;
        return nn.functional.interpolate(input_mean, [height, width], mode: mode, align_corners: mode == InterpolationMode.Bilinear ? false : null);
    }

    public Tensor ForwardFeatures(Tensor x) => ResNetBackbone.RunStages(stages, x);

    /// <summary>Outputs of layer3 and layer4.</summary>
    public (Tensor Previous, Tensor Last) ForwardLastTwo(Tensor x) => IMultiStageExtractor.RunLastTwo(stages, x);

    /// <summary>Stage 0 = conv1 + bn1 (the stem), stage k = layer k, as torchvision's ResNets.</summary>
    public int StageOf(string parameterName) => ResNetBackbone.StageOfLayerName(parameterName);

    public override Tensor forward(Tensor x) => ForwardFeatures(x);

    /// <summary>(before, after) padding of an axis of length <paramref name="n"/> for a strided kernel; see <see cref="StridePadding"/>.</summary>
    public static (long Before, long After) Pads(StridePadding padding, long n, long kernel, long stride)
    {
        long outputs = (n + stride - 1) / stride;
        long total = Math.Max((outputs - 1) * stride + kernel - n, 0);
        long half = (kernel - 1) / 2;
        return padding switch
        {
            StridePadding.Cntk => (Math.Min(half, total), Math.Max(total - half, 0)),
            StridePadding.Symmetric => (half, half),
            StridePadding.EndHeavy => (total / 2, total - total / 2),
            _ => throw new ArgumentOutOfRangeException(nameof(padding), padding, null),
        };
    }

    /// <summary>The ONNX pads [top, left, bottom, right] this module uses for a square kernel on a square input of side <paramref name="n"/>.</summary>
    public long[] OnnxPads(long n, long kernel, long stride)
    {
        var (before, after) = stride == 1 ? ((kernel - 1) / 2, (kernel - 1) / 2) : Pads(padding, n, kernel, stride);
        return [before, before, after, after];
    }

    /// <summary>Pads a strided operation's input explicitly (zeros: every strided input here is a conv input or follows a ReLU).</summary>
    internal static Tensor StridedPad(Tensor x, StridePadding padding, long kernel, long stride)
    {
        var (top, bottom) = Pads(padding, x.shape[2], kernel, stride);
        var (left, right) = Pads(padding, x.shape[3], kernel, stride);
        return top == 0 && bottom == 0 && left == 0 && right == 0 ? x.alias() : nn.functional.pad(x, [left, right, top, bottom]);
    }

    /// <summary>conv1 -> bn1 -> relu -> 3x3 stride-2 max pool, with CNTK's pads when asked.</summary>
    sealed class Stem(Conv2d conv, BatchNorm2d bn, StridePadding padding) : nn.Module<Tensor, Tensor>("stem")
    {
        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var h = nn.functional.relu(bn.call(conv.call(StridedPad(x, padding, 7, 2))));
            // After a ReLU every value is >= 0, so zero padding cannot win a max: the same as ONNX's ignored pads.
            h = nn.functional.max_pool2d(StridedPad(h, padding, 3, 2), 3, 2);
            return h.MoveToOuterDisposeScope();
        }
    }
}

/// <summary>Two 3x3 convolutions with BatchNorm and a residual; a 1x1 stride-2 projection when the shape changes.</summary>
public sealed class CntkBasicBlock : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1, conv2;
    private readonly BatchNorm2d bn1, bn2;
    private readonly Sequential? downsample;
    readonly StridePadding padding;
    readonly int stride;

    public CntkBasicBlock(string name, long inChannels, long outChannels, int stride, StridePadding padding) : base(name)
    {
        this.padding = padding;
        this.stride = stride;
        conv1 = nn.Conv2d(inChannels, outChannels, 3, stride: stride, padding: stride == 1 ? 1L : 0L, bias: false);
        bn1 = nn.BatchNorm2d(outChannels, eps: CntkResNet.BatchNormEps);
        conv2 = nn.Conv2d(outChannels, outChannels, 3, stride: 1, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(outChannels, eps: CntkResNet.BatchNormEps);
        if (stride != 1 || inChannels != outChannels)
            downsample = nn.Sequential(nn.Conv2d(inChannels, outChannels, 1, stride: stride, bias: false), nn.BatchNorm2d(outChannels, eps: CntkResNet.BatchNormEps));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = conv1.call(stride == 1 ? x : CntkResNet.StridedPad(x, padding, 3, stride));
        h = nn.functional.relu(bn1.call(h));
        h = bn2.call(conv2.call(h));
        var identity = downsample is null ? x : downsample.call(x);
        return nn.functional.relu(h.add_(identity)).MoveToOuterDisposeScope();
    }
}
