using HappyWhale.Evaluation;
using HappyWhale.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Tests.Evaluation;

public class TtaFlipTests
{
    /// <summary>A position-sensitive embedding: a fixed random linear map of the flattened pixels.</summary>
    static nn.Module<Tensor, Tensor> PixelModel(int size)
    {
        // Weights from a private generator: tests in other classes run in parallel and draw from the global one.
        var linear = nn.Linear(3 * size * size, 8);
        using (no_grad())
        {
            linear.weight!.copy_(randn(8, 3 * size * size, generator: new Generator().manual_seed(11)));
            linear.bias!.zero_();
        }
        return nn.Sequential(nn.Flatten(), linear);
    }

    const int Size = 6;

    static Tensor Asymmetric() => torch.rand(1, 3, Size, Size, generator: new Generator().manual_seed(5));

    static Tensor Symmetric()
    {
        var left = torch.rand(1, 3, Size, Size / 2, generator: new Generator().manual_seed(6));
        return cat([left, left.flip(3)], 3);   // mirror-symmetric across the vertical axis
    }

    static (Tensor Plain, Tensor Tta) Embed(Tensor image)
    {
        using var model = PixelModel(Size);
        var images = new InMemoryImages(image);
        var rows = Enumerable.Range(0, images.Count).ToList();
        return (EmbeddingExtractor.Extract(model, images, rows, 4, hflipTta: false),
                EmbeddingExtractor.Extract(model, images, rows, 4, hflipTta: true));
    }

    [Fact]
    public void Flip_tta_changes_the_embedding_of_an_asymmetric_image()
    {
        var (plain, tta) = Embed(Asymmetric());
        Assert.False(plain.allclose(tta, rtol: 0, atol: 1e-3));
        using var norm = linalg.vector_norm(tta, dims: [1]);
        Assert.Equal(1.0, norm.item<float>(), 5);
    }

    [Fact]
    public void Flip_tta_leaves_the_embedding_of_a_symmetric_image_alone()
    {
        var (plain, tta) = Embed(Symmetric());
        Assert.True(plain.allclose(tta, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void One_pass_gives_the_same_embeddings_as_two_separate_extractions()
    {
        var images = cat([Asymmetric(), Symmetric()], 0);
        var (plain, tta) = Embed(images);
        using var model = PixelModel(Size);
        var (plain2, tta2) = EmbeddingExtractor.ExtractWithAndWithoutTta(model, new InMemoryImages(images), [0, 1], 1);
        Assert.Equal(plain.shape, plain2.shape);
        Assert.True(plain.allclose(plain2, rtol: 0, atol: 1e-6));
        Assert.True(tta.allclose(tta2, rtol: 0, atol: 1e-6));
    }
}
