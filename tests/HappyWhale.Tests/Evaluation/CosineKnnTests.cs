using HappyWhale.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Tests.Evaluation;

public class CosineKnnTests
{
    private static float[] RandomMatrix(Random rng, int rows, int dim)
    {
        var a = new float[rows * dim];
        for (int i = 0; i < a.Length; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        return a;
    }

    // Straight from the definition, in double: every pair, then a full sort per query.
    private static (double[] Sims, int[] Idx) BruteForce(float[] q, int nq, float[] g, int ng, int dim, int k)
    {
        double Norm(float[] m, int r) => Math.Sqrt(Enumerable.Range(0, dim).Sum(j => (double)m[r * dim + j] * m[r * dim + j]));
        var sims = new double[nq * k];
        var idx = new int[nq * k];
        for (int i = 0; i < nq; i++)
        {
            var row = new (double S, int J)[ng];
            for (int j = 0; j < ng; j++)
            {
                double dot = 0;
                for (int d = 0; d < dim; d++) dot += (double)q[i * dim + d] * g[j * dim + d];
                row[j] = (dot / (Norm(q, i) * Norm(g, j)), j);
            }
            var top = row.OrderByDescending(x => x.S).Take(k).ToArray();
            for (int t = 0; t < k; t++) { sims[i * k + t] = top[t].S; idx[i * k + t] = top[t].J; }
        }
        return (sims, idx);
    }

    [Theory]
    [InlineData(37, 53, 16, 7, 5)]   // chunk smaller than query count, uneven last chunk
    [InlineData(20, 30, 8, 4, 1)]    // one query per chunk
    [InlineData(10, 25, 12, 6, 4096)] // single chunk
    public void MatchesBruteForce(int nq, int ng, int dim, int k, int chunk)
    {
        var rng = new Random(1234 + nq);
        var q = RandomMatrix(rng, nq, dim);
        var g = RandomMatrix(rng, ng, dim);
        using var scope = torch.NewDisposeScope();
        var (sims, idx) = CosineKnn.Search(torch.tensor(q, new long[] { nq, dim }), torch.tensor(g, new long[] { ng, dim }), k, chunk);
        var (refSims, refIdx) = BruteForce(q, nq, g, ng, dim, k);

        Assert.Equal(nq * k, sims.Length);
        Assert.Equal(refIdx, idx);
        for (int i = 0; i < sims.Length; i++)
            Assert.True(Math.Abs(sims[i] - refSims[i]) < 1e-5, $"similarity {i}: {sims[i]} vs {refSims[i]}");
    }

    [Fact]
    public void KIsClippedToGallerySize()
    {
        var rng = new Random(7);
        using var scope = torch.NewDisposeScope();
        var (sims, idx) = CosineKnn.Search(torch.tensor(RandomMatrix(rng, 4, 3), new long[] { 4, 3 }),
                                           torch.tensor(RandomMatrix(rng, 2, 3), new long[] { 2, 3 }), k: 10, chunkRows: 3);
        Assert.Equal(8, sims.Length);
        Assert.Equal(8, idx.Length);
        Assert.All(Enumerable.Range(0, 4), r => Assert.Equal(new[] { 0, 1 }, idx.Skip(r * 2).Take(2).OrderBy(x => x)));
    }

    [Fact]
    public void ScaleOfEmbeddingsDoesNotMatter()
    {
        using var scope = torch.NewDisposeScope();
        var g = torch.tensor(new float[] { 1, 0, 0, 10, 5, 5 }, new long[] { 3, 2 });
        var q = torch.tensor(new float[] { 0, 100 }, new long[] { 1, 2 });
        var (sims, idx) = CosineKnn.Search(q, g, 3);
        Assert.Equal(new[] { 1, 2, 0 }, idx);
        Assert.Equal(1.0f, sims[0], 5);
        Assert.Equal((float)Math.Sqrt(0.5), sims[1], 5);
        Assert.Equal(0.0f, sims[2], 5);
    }

    [Fact]
    public void LeavesCallerTensorsUsable()
    {
        // The search disposes its own intermediates; it must never dispose (or change) what it was given.
        using var scope = torch.NewDisposeScope();
        var q = torch.tensor(new float[] { 3, 4 }, new long[] { 1, 2 });
        var g = torch.tensor(new float[] { 1, 0, 0, 2 }, new long[] { 2, 2 });
        CosineKnn.Search(q, g, 2);
        Assert.Equal(new float[] { 3, 4 }, q.data<float>().ToArray());
        Assert.Equal(new float[] { 1, 0, 0, 2 }, g.data<float>().ToArray());
    }

    [Fact]
    public void RejectsMismatchedDimensions()
    {
        using var scope = torch.NewDisposeScope();
        Assert.Throws<ArgumentException>(() => CosineKnn.Search(torch.zeros(2, 3), torch.zeros(4, 5), 1));
    }
}
