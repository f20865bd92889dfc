namespace HappyWhale.Data.Synthetic;

/// <summary>
/// Derives independent seeds for System.Random. Random(seed) (the seeded, .NET-5-compatible algorithm)
/// starts from a state that is nearly affine in the seed, so seeds taken from one generator at a fixed
/// stride give visibly correlated first draws (every photo of an individual mirrored the same way).
/// Passing the seed through the SplitMix64 finaliser removes that structure.
/// </summary>
public static class SeedMixer
{
    public static int Derive(int seed, long stream)
    {
        ulong z = unchecked((ulong)(uint)seed * 0x9E3779B97F4A7C15UL + (ulong)stream * 0xBF58476D1CE4E5B9UL + 0x94D049BB133111EBUL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z & 0x7FFFFFFF);
    }
}
