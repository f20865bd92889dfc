using HappyWhale.Experiments;
using HappyWhale.Imaging;
using HappyWhale.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Tests.Modeling;

public class CntkResNetTests
{
    [Fact]
    public void Layout_is_resnet18_with_a_third_block_in_the_last_stage()
    {
        using var net = (CntkResNet)Backbones.Create(CntkResNet.ImageNet18);
        var sd = net.state_dict();
        Assert.Equal([2, 2, 2, 3], net.Blocks);
        Assert.Equal(new long[] { 64, 3, 7, 7 }, sd["conv1.weight"].shape);
        Assert.Equal(new long[] { 512, 256, 1, 1 }, sd["layer4.0.downsample.0.weight"].shape);
        Assert.Contains("layer4.2.bn2.running_var", sd.Keys);
        Assert.DoesNotContain("layer4.3.conv1.weight", sd.Keys);
        Assert.DoesNotContain(sd.Keys, k => k.StartsWith("layer1.0.downsample", StringComparison.Ordinal));
        Assert.Equal(new long[] { 1, 3, 224, 224 }, sd[CntkResNetImport.MeanBuffer].shape);
        // torchvision's ResNet-18 without fc (11,176,512) plus one 512-wide basic block (2 x 3x3x512x512 + 2 BN x 1024).
        Assert.Equal(11_176_512 + 2 * 512 * 512 * 9 + 2 * 1024, net.parameters().Sum(p => p.numel()));
        Assert.Equal(0, net.StageOf("bn1.weight"));
        Assert.Equal(4, net.StageOf("layer4.2.conv2.weight"));
    }

    [Theory]
    [InlineData(StridePadding.Cntk, 224, 7, 3, 2)]
    [InlineData(StridePadding.Cntk, 112, 3, 1, 0)]
    [InlineData(StridePadding.Cntk, 225, 7, 3, 3)]
    [InlineData(StridePadding.Cntk, 25, 3, 1, 1)]
    [InlineData(StridePadding.Cntk, 112, 1, 0, 0)]
    [InlineData(StridePadding.Symmetric, 224, 7, 3, 3)]
    [InlineData(StridePadding.EndHeavy, 224, 7, 2, 3)]
    [InlineData(StridePadding.EndHeavy, 112, 3, 0, 1)]
    public void Stride_two_pads_follow_each_convention(StridePadding padding, long n, long kernel, long before, long after) =>
        Assert.Equal((before, after), CntkResNet.Pads(padding, n, kernel, 2));

    [Theory]
    [InlineData(224, 7)]
    [InlineData(200, 7)]   // 200 -> 100 -> 50 -> 25 -> 13 -> 7: a stride-2 op meets an odd side
    [InlineData(64, 2)]
    public void Every_convention_gives_ceil_half_sides_and_cntk_equals_symmetric(int size, long finalSide)
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(3);
        using var cntk = CntkResNet.Create(CntkResNet.ImageNet18, StridePadding.Cntk);
        using var symmetric = CntkResNet.Create(CntkResNet.ImageNet18, StridePadding.Symmetric);
        using var endHeavy = CntkResNet.Create(CntkResNet.ImageNet18, StridePadding.EndHeavy);
        symmetric.load_state_dict(cntk.state_dict());
        endHeavy.load_state_dict(cntk.state_dict());
        foreach (var m in new[] { cntk, symmetric, endHeavy }) m.eval();
        using var _ = no_grad();
        var x = randn(2, 3, size, size);
        var a = cntk.ForwardFeatures(x);
        Assert.Equal(new long[] { 2, 512, finalSide, finalSide }, a.shape);
        Assert.True(a.allclose(symmetric.ForwardFeatures(x), rtol: 1e-4, atol: 1e-5), "CNTK's padding and symmetric padding should compute the same");
        Assert.False(a.allclose(endHeavy.ForwardFeatures(x), rtol: 1e-2, atol: 1e-3), "padding after the input must change the features");
    }

    [Fact]
    public void Input_is_bgr_0_255_minus_the_mean_and_gray_stays_three_equal_channels_before_the_mean()
    {
        using var scope = NewDisposeScope();
        using var net = CntkResNet.Create(CntkResNet.ImageNet18);
        var rgb = rand(2, 3, 224, 224);
        var x = net.NormalizeInput(rgb);
        var mean = tensor(CntkResNet.ChannelMeansBgr).view(1, 3, 1, 1);
        Assert.True(x.allclose(rgb.flip(1) * 255 - mean, atol: 1e-4));
        Assert.Equal(0.0, x[0, 0, 5, 7].item<float>() - (rgb[0, 2, 5, 7].item<float>() * 255 - CntkResNet.ChannelMeansBgr[0]), 3);

        var gray = rand(2, 1, 64, 64).expand(2, 3, 64, 64);
        var g = net.NormalizeInput(gray) + net.MeanFor(64, 64);
        // Equal up to float32 rounding at the mean's magnitude (~123): subtracting a channel's mean and adding it back is
        // exact for some values and off by an ulp of 123 (7.6e-6) for others, beyond allclose's default 1e-8 near 0.
        Assert.True(g[.., 0].allclose(g[.., 1], rtol: 0, atol: 1e-4) && g[.., 1].allclose(g[.., 2], rtol: 0, atol: 1e-4), "gray input must stay three equal channels");

        // A ReidModel around the backbone hands its batches to the backbone's normalisation.
        using var reid = ModelFactory.Create(new HappyWhale.Experiments.ModelSpec
        {
            Backbone = CntkResNet.ImageNet18, Pooling = PoolingType.Avg, EmbeddingDim = 16, Neck = NeckType.LinearBn,
            Head = new HappyWhale.Experiments.HeadSpec { Type = HeadType.Arcface, S = 30, M = 0.3 },
        }, numClasses: 3);
        Assert.True(InputNormalization.Apply(reid, rgb).allclose(x));
    }

    [Fact]
    public void The_mean_image_at_other_sizes_is_area_resampled_or_per_channel()
    {
        using var scope = NewDisposeScope();
        using var resampled = CntkResNet.Create(CntkResNet.ImageNet18);
        using var perChannel = CntkResNet.Create(CntkResNet.ImageNet18, mean: MeanAtOtherSizes.PerChannel);
        var image = arange(3 * 224 * 224, dtype: ScalarType.Float32).view(1, 3, 224, 224) / (224 * 224);
        foreach (var m in new[] { resampled, perChannel })
            using (no_grad()) m.get_buffer(CntkResNetImport.MeanBuffer)!.copy_(image);
        Assert.True(resampled.MeanFor(224, 224).allclose(image, rtol: 0, atol: 0));
        Assert.True(perChannel.MeanFor(224, 224).allclose(image, rtol: 0, atol: 0));
        var small = resampled.MeanFor(112, 112);
        Assert.Equal(new long[] { 1, 3, 112, 112 }, small.shape);
        Assert.Equal(image[0, 1, 0..2, 0..2].mean().item<float>(), small[0, 1, 0, 0].item<float>(), 4);
        var flat = perChannel.MeanFor(64, 64);
        Assert.Equal(new long[] { 1, 3, 1, 1 }, flat.shape);
        Assert.Equal(image[0, 2].mean().item<float>(), flat[0, 2, 0, 0].item<float>(), 4);
        Assert.Equal(new long[] { 1, 3, 256, 256 }, resampled.MeanFor(256, 256).shape);
    }

    [Fact]
    public void A_file_that_is_not_an_onnx_model_is_named()
    {
        using var tmp = new TempFolder();
        var source = ImageNetPackage.PreprocessOnnx(ImageNetPackage.ModelsFolder);
        var bytes = File.ReadAllBytes(source);
        File.WriteAllBytes(tmp["truncated.onnx"], bytes[..(bytes.Length / 2)]);
        File.WriteAllText(tmp["text.onnx"], "not a model");
        foreach (var name in new[] { "truncated.onnx", "text.onnx" })
        {
            var e = Assert.Throws<UserException>(() => OnnxModel.Load(tmp[name]));
            Assert.Contains(tmp[name], e.Message);
            Assert.Contains("is not a readable ONNX model", e.Message);
        }
        Assert.Contains("ONNX model not found", Assert.Throws<UserException>(() => OnnxModel.Load(tmp["none.onnx"])).Message);

        var model = OnnxModel.Load(source);
        Assert.Equal(["Split", "Concat", "Sub"], model.Nodes.Select(n => n.OpType));
        Assert.Equal(new long[] { 1, 3, 224, 224 }, model.Initializers["MeanImage"].Dims);
    }
}
