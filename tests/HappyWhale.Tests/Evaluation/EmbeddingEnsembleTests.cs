using HappyWhale.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Tests.Evaluation;

public class EmbeddingEnsembleTests
{
    static Tensor Random(int rows, int dim, int seed)
    {
        var g = new Generator().manual_seed(seed);
        return randn(rows, dim, generator: g);
    }

    static Tensor Unit(Tensor t) => nn.functional.normalize(t, p: 2, dim: 1);

    [Fact]
    public void Two_identical_models_give_the_same_embeddings_as_one()
    {
        using var a = Random(20, 16, 1);
        using var one = EmbeddingEnsemble.Average([a]);
        using var two = EmbeddingEnsemble.Average([a, a.clone()]);
        Assert.True(one.allclose(two, rtol: 0, atol: 1e-6));
        Assert.True(one.allclose(Unit(a), rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void Two_identical_models_rank_the_gallery_as_one_does()
    {
        using var gallery = Random(50, 16, 2);
        using var queries = Random(10, 16, 3);
        using var g1 = EmbeddingEnsemble.Average([gallery]);
        using var q1 = EmbeddingEnsemble.Average([queries]);
        using var g2 = EmbeddingEnsemble.Average([gallery, gallery]);
        using var q2 = EmbeddingEnsemble.Average([queries, queries]);
        var (s1, i1) = CosineKnn.Search(q1, g1, 5);
        var (s2, i2) = CosineKnn.Search(q2, g2, 5);
        Assert.Equal(i1, i2);
        for (int i = 0; i < s1.Length; i++) Assert.Equal(s1[i], s2[i], 5);
    }

    [Fact]
    public void Averaging_normalises_each_model_first_and_the_mean_after()
    {
        // Model 2 embeds at 100x the scale of model 1: without normalising first it would decide alone.
        using var a = tensor(new float[] { 1, 0, 0, 1 }, [2, 2]);
        using var b = tensor(new float[] { 0, 100, 100, 0 }, [2, 2]);
        using var mean = EmbeddingEnsemble.Average([a, b]);
        float r = 1 / MathF.Sqrt(2);
        Assert.True(mean.allclose(tensor(new[] { r, r, r, r }, [2, 2]), rtol: 0, atol: 1e-6));
        using var norms = linalg.vector_norm(EmbeddingEnsemble.Average([Random(30, 8, 4), Random(30, 8, 5)]), dims: [1]);
        Assert.True(norms.allclose(ones(30), rtol: 0, atol: 1e-5));
    }

    [Fact]
    public void Models_with_different_embedding_sizes_are_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => EmbeddingEnsemble.Average([zeros(3, 8), zeros(3, 16)]));
        Assert.Contains("embedding_dim", e.Message);
    }
}
