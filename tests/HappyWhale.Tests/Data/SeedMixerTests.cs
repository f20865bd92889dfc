using HappyWhale.Data.Synthetic;

namespace HappyWhale.Tests.Data;

public class SeedMixerTests
{
    [Fact]
    public void Derived_seeds_give_uncorrelated_draws_at_a_fixed_stride()
    {
        // The draw that decides mirroring (the sixth) must not repeat along photos of one individual.
        int below = 0, n = 400;
        for (int i = 0; i < n; i++)
        {
            var rng = new Random(SeedMixer.Derive(7, i * 15));
            double d = 0;
            for (int k = 0; k < 6; k++) d = rng.NextDouble();
            if (d < 0.5) below++;
        }
        Assert.InRange(below, n * 0.4, n * 0.6);
        Assert.Equal(SeedMixer.Derive(7, 3), SeedMixer.Derive(7, 3));
        Assert.NotEqual(SeedMixer.Derive(7, 3), SeedMixer.Derive(8, 3));
    }
}
