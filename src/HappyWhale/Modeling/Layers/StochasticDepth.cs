using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HappyWhale.Modeling;

/// <summary>
/// torchvision.ops.StochasticDepth in "row" mode: in training, drops each sample's residual branch with
/// probability p and scales survivors by 1/(1-p); in eval (or p = 0) it is the identity.
/// </summary>
public sealed class StochasticDepth : Module<Tensor, Tensor>
{
    public double P { get; }

    public StochasticDepth(double p) : base(nameof(StochasticDepth))
    {
        if (p < 0 || p > 1) throw new ArgumentOutOfRangeException(nameof(p), p, "probability must be in [0, 1]");
        P = p;
    }

    public override Tensor forward(Tensor x)
    {
        if (!training || P == 0.0) return x.alias();
        double survival = 1.0 - P;
        var shape = new long[x.dim()];
        shape[0] = x.shape[0];
        for (int i = 1; i < shape.Length; i++) shape[i] = 1;
        using var noise = empty(shape, dtype: x.dtype, device: x.device).bernoulli_(survival);
        if (survival > 0) noise.div_(Scalars.Of(survival));
        return x * noise;
    }
}
