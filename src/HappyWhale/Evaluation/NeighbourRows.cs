namespace HappyWhale.Evaluation;

/// <summary>Views a row-major (queries x k) kNN result as one neighbour list per query.</summary>
internal static class NeighbourRows
{
    public static IEnumerable<(ReadOnlyMemory<float> Similarities, ReadOnlyMemory<int> Indices)> Split(float[] similarities, int[] indices, int k)
    {
        ArgumentNullException.ThrowIfNull(similarities);
        ArgumentNullException.ThrowIfNull(indices);
        if (similarities.Length != indices.Length)
            throw new ArgumentException($"{similarities.Length} similarities but {indices.Length} indices.");
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1.");
        if (similarities.Length % k != 0)
            throw new ArgumentException($"{similarities.Length} neighbours is not a whole number of rows of k={k}.");
        return Iterate(similarities, indices, k);
    }

    private static IEnumerable<(ReadOnlyMemory<float>, ReadOnlyMemory<int>)> Iterate(float[] s, int[] ix, int k)
    {
        for (int start = 0; start < s.Length; start += k)
            yield return (new ReadOnlyMemory<float>(s, start, k), new ReadOnlyMemory<int>(ix, start, k));
    }
}
