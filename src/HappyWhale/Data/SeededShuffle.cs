namespace HappyWhale.Data;

/// <summary>The Fisher-Yates shuffle every data split draws with.</summary>
/// <remarks>
/// Not <see cref="Random.Shuffle{T}(Span{T})"/>: that draws in the other direction, so switching would
/// change every fold and query split made from a given seed.
/// </remarks>
internal static class SeededShuffle
{
    public static void InPlace<T>(Span<T> items, Random rng)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
