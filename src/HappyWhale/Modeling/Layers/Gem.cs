using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HappyWhale.Modeling;

/// <summary>
/// Generalized-mean pooling: (mean over H,W of clamp(x, eps)^p)^(1/p), output [N, C, 1, 1].
/// p = 1 is average pooling; p -> infinity approaches max pooling. With <c>learnable</c> the
/// exponent is a Parameter named <c>p</c> (shape [1]); otherwise it is a constant.
/// </summary>
public sealed class Gem : nn.Module<Tensor, Tensor>
{
    private readonly Parameter? p;
    private readonly double fixedP;

    public double Eps { get; }
    public bool Learnable => p is not null;

    /// <summary>The current exponent (reads the parameter when learnable).</summary>
    public double P => p is null ? fixedP : p.ToDouble();

    public Gem(double p = 3.0, bool learnable = false, double eps = 1e-6) : base(nameof(Gem))
    {
        if (p <= 0) throw new ArgumentOutOfRangeException(nameof(p), p, "GeM exponent must be positive");
        fixedP = p;
        Eps = eps;
        if (learnable) this.p = new Parameter(torch.full(1, p, dtype: ScalarType.Float32));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var clamped = x.clamp(min: Scalars.Of(Eps));
        if (p is null)
        {
            using var powered = clamped.pow(Scalars.Of(fixedP));
            using var pooled = nn.functional.adaptive_avg_pool2d(powered, 1);
            return pooled.pow(Scalars.Of(1.0 / fixedP));
        }
        else
        {
            using var pt = p.to(x.dtype);
            using var powered = clamped.pow(pt);
            using var pooled = nn.functional.adaptive_avg_pool2d(powered, 1);
            using var inv = pt.reciprocal();
            return pooled.pow(inv);
        }
    }
}
