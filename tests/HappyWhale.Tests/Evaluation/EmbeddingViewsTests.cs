using HappyWhale.Evaluation;
using HappyWhale.Experiments;
using HappyWhale.Imaging;
using HappyWhale.Modeling;
using HappyWhale.Tests.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Tests.Evaluation;

/// <summary>evaluate.tta_shift and evaluate.feature: what describes an image at evaluation.</summary>
public class EmbeddingViewsTests
{
    const int Size = 8;

    /// <summary>A position-sensitive embedding: a fixed random linear map of the flattened pixels.</summary>
    static nn.Module<Tensor, Tensor> PixelModel()
    {
        var linear = nn.Linear(3 * Size * Size, 8);
        using (no_grad())
        {
            linear.weight!.copy_(randn(8, 3 * Size * Size, generator: new Generator().manual_seed(13)));
            linear.bias!.zero_();
        }
        return nn.Sequential(nn.Flatten(), linear);
    }

    [Fact]
    public void A_shift_averages_the_image_with_its_eight_moved_copies_edges_replicated()
    {
        using var scope = NewDisposeScope();
        using var model = PixelModel();
        var image = rand(2, 3, Size, Size, generator: new Generator().manual_seed(3));
        var images = new InMemoryImages(image);
        var shifted = EmbeddingExtractor.Extract(model, images, [0, 1], 4, views: new EmbeddingViews(Shift: 0.25));

        // By hand: a 2-pixel move (0.25 x 8) is the image padded by replication, then cropped off-centre.
        var x = InputNormalization.Apply(model, image);
        var padded = nn.functional.pad(x, [2, 2, 2, 2], PaddingModes.Replicate);
        Tensor Unit(Tensor t) => nn.functional.normalize(model.call(t), p: 2, dim: 1);
        var sum = Unit(x);
        foreach (var (dy, dx) in new (long, long)[] { (2, 0), (-2, 0), (0, 2), (0, -2), (2, 2), (-2, -2), (2, -2), (-2, 2) })
            sum = sum + Unit(padded.narrow(2, 2 - dy, Size).narrow(3, 2 - dx, Size));
        var expected = nn.functional.normalize(sum, p: 2, dim: 1);
        Assert.True(shifted.allclose(expected, rtol: 0, atol: 1e-5));

        // It is not the plain embedding, and with no shift it is.
        var plain = EmbeddingExtractor.Extract(model, images, [0, 1], 4);
        Assert.False(shifted.allclose(plain, rtol: 0, atol: 1e-3));
        Assert.True(EmbeddingExtractor.Extract(model, images, [0, 1], 4, views: new EmbeddingViews(Shift: 0)).allclose(plain, rtol: 0, atol: 0));
    }

    [Fact]
    public void Embedding_and_pooled_puts_both_normalised_halves_side_by_side()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        using var model = ModelFactory.Create(WeightImportTests.Spec("resnet10_narrow"), numClasses: 3);
        var image = rand(2, 3, 32, 32, generator: new Generator().manual_seed(4));
        var images = new InMemoryImages(image);
        var both = EmbeddingExtractor.Extract(model, images, [0, 1], 4, views: new EmbeddingViews(Feature: EmbeddingFeature.EmbeddingAndPooled));
        var embedding = EmbeddingExtractor.Extract(model, images, [0, 1], 4);

        Assert.Equal(model.EmbeddingDim + model.PooledFeatures, both.shape[1]);
        // The first half, scaled back by sqrt(2), is the normalised embedding.
        var firstHalf = both.narrow(1, 0, model.EmbeddingDim) * Math.Sqrt(2);
        Assert.True(firstHalf.allclose(embedding, rtol: 0, atol: 1e-5));
        Assert.Equal(1.0, linalg.vector_norm(both, dims: [1])[0].item<float>(), 4);
    }

    [Fact]
    public void Embedding_and_pooled_on_a_model_without_pooled_features_names_the_key()
    {
        using var model = PixelModel();
        var e = Assert.Throws<ArgumentException>(() =>
            EmbeddingExtractor.Extract(model, new InMemoryImages(rand(1, 3, Size, Size)), [0], 1, views: new EmbeddingViews(Feature: EmbeddingFeature.EmbeddingAndPooled)));
        Assert.Contains("evaluate.feature", e.Message);
    }
}
