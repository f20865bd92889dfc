using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HappyWhale.Modeling;

/// <summary>torchvision's SqueezeExcitation: avgpool, fc1 (1x1 conv), SiLU, fc2 (1x1 conv), sigmoid, scale the input.</summary>
internal sealed class SqueezeExcitation : Module<Tensor, Tensor>
{
    private readonly AdaptiveAvgPool2d avgpool;
    private readonly Conv2d fc1;
    private readonly Conv2d fc2;
    private readonly SiLU activation;
    private readonly Sigmoid scale_activation;

    public SqueezeExcitation(long channels, long squeezeChannels) : base(nameof(SqueezeExcitation))
    {
        avgpool = AdaptiveAvgPool2d(1);
        fc1 = Conv2d(channels, squeezeChannels, 1);
        fc2 = Conv2d(squeezeChannels, channels, 1);
        activation = SiLU();
        scale_activation = Sigmoid();
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var s0 = avgpool.call(x);
        using var s1 = fc1.call(s0);
        using var s2 = activation.call(s1);
        using var s3 = fc2.call(s2);
        using var scale = scale_activation.call(s3);
        return scale * x;
    }
}
