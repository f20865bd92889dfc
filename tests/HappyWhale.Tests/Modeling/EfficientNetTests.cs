using HappyWhale.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Tests.Modeling;

public class EfficientNetTests
{
    // torchvision.models.EfficientNet_BN_Weights.IMAGENET1K_V1.meta["num_params"] (1000 classes).
    [Theory]
    [InlineData("efficientnet_b0", 5_288_548, 1280)]
    [InlineData("efficientnet_b1", 7_794_184, 1280)]
    [InlineData("efficientnet_b2", 9_109_994, 1408)]
    [InlineData("efficientnet_b3", 12_233_232, 1536)]
    [InlineData("efficientnet_b4", 19_341_616, 1792)]
    [InlineData("efficientnet_b5", 30_389_784, 2048)]
    [InlineData("efficientnet_b6", 43_040_704, 2304)]
    [InlineData("efficientnet_b7", 66_347_960, 2560)]
    public void Parameter_count_matches_torchvision(string variant, long expected, long featureChannels)
    {
        using var model = EfficientNet.Create(variant);
        long count = model.parameters().Sum(p => p.numel());
        Assert.Equal(expected, count);
        Assert.Equal(featureChannels, model.FeatureChannels);
    }

    [Theory]
    [InlineData("efficientnet_b0", 360)]
    [InlineData("efficientnet_b5", 854)]
    public void State_dict_has_torchvision_entry_count(string variant, int expected)
    {
        using var model = EfficientNet.Create(variant);
        Assert.Equal(expected, model.state_dict().Count);
    }

    [Fact]
    public void B0_state_dict_names_and_shapes_match_torchvision()
    {
        using var model = EfficientNet.Create("efficientnet_b0");
        var sd = model.state_dict();
        void Has(string name, params long[] shape) =>
            Assert.True(sd.TryGetValue(name, out var t) && t.shape.SequenceEqual(shape),
                $"{name}: expected [{string.Join(",", shape)}], got {(sd.TryGetValue(name, out var u) ? "[" + string.Join(",", u.shape) + "]" : "missing")}");

        Has("features.0.0.weight", 32, 3, 3, 3);
        Has("features.0.1.weight", 32);
        Has("features.0.1.running_mean", 32);
        Has("features.0.1.running_var", 32);
        Has("features.0.1.num_batches_tracked");
        Has("features.1.0.block.0.0.weight", 32, 1, 3, 3);      // depthwise (no expand when ratio 1)
        Has("features.1.0.block.1.fc1.weight", 8, 32, 1, 1);
        Has("features.1.0.block.1.fc1.bias", 8);
        Has("features.1.0.block.1.fc2.weight", 32, 8, 1, 1);
        Has("features.1.0.block.2.0.weight", 16, 32, 1, 1);
        Has("features.2.0.block.0.0.weight", 96, 16, 1, 1);     // expand
        Has("features.2.1.block.1.0.weight", 144, 1, 3, 3);
        Has("features.6.3.block.3.1.running_var", 192);
        Has("features.7.0.block.3.0.weight", 320, 1152, 1, 1);
        Has("features.8.0.weight", 1280, 320, 1, 1);
        Has("features.8.1.bias", 1280);
        Has("classifier.1.weight", 1000, 1280);
        Has("classifier.1.bias", 1000);
        Assert.DoesNotContain(sd.Keys, k => k.Contains("stochastic_depth") || k.StartsWith("avgpool"));
    }

    [Fact]
    public void B5_layout_and_batchnorm_settings()
    {
        using var model = EfficientNet.Create("efficientnet_b5");
        var sd = model.state_dict();
        Assert.Equal(new long[] { 48, 3, 3, 3 }, sd["features.0.0.weight"].shape);
        Assert.True(sd.ContainsKey("features.1.2.block.2.1.running_mean"));   // ceil(1 * 2.2) = 3 blocks
        Assert.False(sd.ContainsKey("features.1.3.block.0.0.weight"));
        Assert.True(sd.ContainsKey("features.6.8.block.0.0.weight"));         // ceil(4 * 2.2) = 9 blocks
        Assert.Equal(new long[] { 2048, 512, 1, 1 }, sd["features.8.0.weight"].shape);
        var bns = model.modules().OfType<TorchSharp.Modules.BatchNorm2d>().ToList();
        Assert.NotEmpty(bns);
        Assert.All(bns, bn => { Assert.Equal(1e-3, bn.eps, 12); Assert.Equal(0.01, bn.momentum!.Value, 12); });
        Assert.Equal(1e-3, model.Config.BnEps);
        Assert.Equal(0.01, model.Config.BnMomentum);
        Assert.Equal(1e-5, EfficientNet.Variants["efficientnet_b4"].BnEps);
    }

    [Fact]
    public void Make_divisible_matches_torchvision()
    {
        Assert.Equal(32, EfficientNet.MakeDivisible(32));
        Assert.Equal(48, EfficientNet.AdjustChannels(32, 1.6));   // 51.2 -> 48
        Assert.Equal(40, EfficientNet.AdjustChannels(32, 1.2));   // 38.4 -> 40
        Assert.Equal(56, EfficientNet.AdjustChannels(40, 1.4));
        Assert.Equal(8, EfficientNet.MakeDivisible(3));
        Assert.Equal(3, EfficientNet.AdjustDepth(2, 1.1));        // ceil(2.2000000000000002)
        Assert.Equal(7, EfficientNet.AdjustDepth(2, 3.1));
    }

    [Fact]
    public void Unknown_variant_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => EfficientNet.Create("efficientnet_b9"));
    }

    [Fact]
    public void Classifier_and_features_shapes()
    {
        using var _ = NewDisposeScope();
        using var model = EfficientNet.Create("efficientnet_b0", numClasses: 10);
        model.eval();
        var x = randn(2, 3, 64, 64);
        using (no_grad())
        {
            Assert.Equal(new long[] { 2, 1280, 2, 2 }, model.ForwardFeatures(x).shape);
            Assert.Equal(new long[] { 2, 10 }, model.call(x).shape);
        }
    }

    [Fact]
    public void Feature_only_backbone_has_no_classifier()
    {
        using var model = EfficientNet.Create("efficientnet_b0", numClasses: 0);
        var names = model.state_dict().Keys.ToList();
        Assert.Equal(358, names.Count);
        Assert.All(names, n => Assert.StartsWith("features.", n));
    }

    [Fact]
    public void Stochastic_depth_drops_rows_in_training_and_is_identity_in_eval()
    {
        using var _ = NewDisposeScope();
        using var sd = new StochasticDepth(0.5);
        var x = ones(64, 3, 2, 2);
        sd.train();
        var y = sd.call(x);
        var perRow = y.view(64, -1);
        var rowMin = perRow.amin(new long[] { 1 });
        var rowMax = perRow.amax(new long[] { 1 });
        Assert.True((rowMin == rowMax).all().ToBoolean());                          // whole rows kept or dropped
        Assert.True(((rowMax == 0) | (rowMax == 2)).all().ToBoolean());
        Assert.True((rowMax == 0).any().ToBoolean() && (rowMax == 2).any().ToBoolean());
        sd.eval();
        var z = sd.call(x);
        Assert.NotSame(x, z);
        Assert.True((z == x).all().ToBoolean());
    }
}
