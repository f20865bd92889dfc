using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Evaluation;

/// <summary>
/// Exact k-nearest-neighbour search by cosine similarity, computed chunk by chunk over the queries.
/// </summary>
/// <remarks>
/// The full similarity matrix for the competition (about 28k test x 51k train) would be ~5.7 GB in
/// float32, so only a block of <c>chunkRows</c> query rows is multiplied at a time; peak extra memory
/// is chunkRows x galleryRows floats plus the normalised copies of the inputs. The default of 2048 rows
/// keeps that block at ~420 MB for a 51k gallery: the competition-sized benchmark
/// (tests/HappyWhale.Benchmarks, docs/benchmarks.md) then peaks well under 2 GB of resident memory.
/// </remarks>
public static class CosineKnn
{
    /// <returns>Row-major (queryRows x k') arrays, best first, where k' = min(k, galleryRows).</returns>
    public static (float[] Similarities, int[] Indices) Search(Tensor queries, Tensor gallery, int k, int chunkRows = 2048)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(gallery);
        if (queries.dim() != 2 || gallery.dim() != 2)
            throw new ArgumentException($"queries and gallery must be 2-D (rows x dim); got {queries.dim()}-D and {gallery.dim()}-D.");
        if (queries.shape[1] != gallery.shape[1])
            throw new ArgumentException($"embedding sizes differ: queries have {queries.shape[1]}, gallery has {gallery.shape[1]}.");
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1.");
        if (chunkRows < 1) throw new ArgumentOutOfRangeException(nameof(chunkRows), chunkRows, "chunkRows must be at least 1.");

        long queryRows = queries.shape[0];
        long galleryRows = gallery.shape[0];
        int kk = (int)Math.Min(k, galleryRows);
        var similarities = new float[queryRows * kk];
        var indices = new int[queryRows * kk];
        if (queryRows == 0 || kk == 0)
            return (similarities, indices);

        using var scope = torch.NewDisposeScope();
        // float32 throughout: half-precision embeddings would lose the small margins that separate individuals.
        var q = nn.functional.normalize(queries.to_type(ScalarType.Float32), p: 2.0, dim: 1);
        var gT = nn.functional.normalize(gallery.to_type(ScalarType.Float32).to(q.device), p: 2.0, dim: 1).t().contiguous();

        for (long start = 0; start < queryRows; start += chunkRows)
        {
            // A scope per chunk so the chunk's similarity block is freed before the next is computed.
            using var chunkScope = torch.NewDisposeScope();
            long rows = Math.Min(chunkRows, queryRows - start);
            var block = q.narrow(0, start, rows).mm(gT);
            var (values, idx) = block.topk(kk, dim: 1, largest: true, sorted: true);
            var v = values.cpu().contiguous().data<float>().ToArray();
            var ix = idx.cpu().contiguous().data<long>().ToArray();
            long offset = start * kk;
            Array.Copy(v, 0, similarities, offset, v.Length);
            for (int i = 0; i < ix.Length; i++)
                indices[offset + i] = (int)ix[i];
        }
        return (similarities, indices);
    }
}
