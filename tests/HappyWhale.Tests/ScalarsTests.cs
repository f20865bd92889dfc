using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Tests;

public class ScalarsTests
{
    [Fact]
    public void One_instance_per_value_that_outlives_collections()
    {
        var half = Scalars.Of(0.5);
        Assert.Same(half, Scalars.Of(0.5));
        Assert.NotSame(half, Scalars.Of(0.25));
        Assert.Same(Scalars.Of(3), Scalars.Of(3L));

        // An implicit Scalar would be finalized here; the cached one must still hold its value.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.Equal(0.5, Scalars.Of(0.5).ToDouble());
        Assert.Equal(3L, Scalars.Of(3).ToInt64());
    }

    [Fact]
    public void Ops_with_cached_scalars_match_the_implicit_ones_bit_for_bit()
    {
        using var x = rand(1000, generator: new Generator(3, CPU));
        using var viaCache = x.mul(Scalars.Of(2)).sub_(Scalars.Of(1)).mul_(Scalars.Of(0.3)).clamp(Scalars.Of(0), Scalars.Of(1));
        using var implicitScalars = ((x * 2 - 1) * 0.3).clamp(0, 1);
        Assert.Equal(implicitScalars.data<float>().ToArray(), viaCache.data<float>().ToArray());

        using var oneMinus = (x * x).neg().add(Scalars.Of(1.0));
        using var implicitOneMinus = 1.0 - x * x;
        Assert.Equal(implicitOneMinus.data<float>().ToArray(), oneMinus.data<float>().ToArray());
    }
}
