using HappyWhale.Experiments;
using HappyWhale.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Tests.Modeling;

public class ReidModelTests
{
    private static ModelSpec Spec(PoolingType pooling = PoolingType.Gem, NeckType neck = NeckType.LinearBn, int dim = 128) => new()
    {
        Backbone = "efficientnet_b0",
        Pooling = pooling,
        GemP = 3.0,
        EmbeddingDim = dim,
        Neck = neck,
        Head = new HeadSpec { Type = HeadType.Arcface, S = 30.0, M = 0.3, EasyMargin = false },
    };

    [Fact]
    public void Forward_shapes_in_eval_and_train()
    {
        using var _ = NewDisposeScope();
        using var model = ModelFactory.Create(Spec(), numClasses: 7);
        var x = randn(2, 3, 64, 64);

        model.eval();
        using (no_grad())
        {
            var emb = model.call(x);
            Assert.Equal(new long[] { 2, 128 }, emb.shape);
            Assert.False(emb.isnan().any().ToBoolean());
            Assert.Equal(new long[] { 2, 1280 }, model.ForwardPooled(x).shape);
        }

        model.train();
        var embTrain = model.call(x);
        Assert.Equal(new long[] { 2, 128 }, embTrain.shape);
        var labels = tensor(new long[] { 3, 5 });
        var logits = model.Logits(embTrain, labels);
        Assert.Equal(new long[] { 2, 7 }, logits.shape);
        var loss = nn.functional.cross_entropy(logits, labels);
        loss.backward();
        Assert.False(loss.isnan().ToBoolean());
        Assert.NotNull(model.Head.Weight.grad);
    }

    [Fact]
    public void Input_norm_inverted_feeds_one_minus_the_image_and_imagenet_its_statistics()
    {
        using var _ = NewDisposeScope();
        var x = rand(2, 3, 8, 8, generator: new Generator(3, CPU));
        using var imagenet = ModelFactory.Create(Spec(), numClasses: 3);
        using var inverted = ModelFactory.Create(Spec() with { InputNorm = InputNorm.Inverted }, numClasses: 3);

        Assert.True(inverted.NormalizeInput(x).allclose(1 - x));
        Assert.True(imagenet.NormalizeInput(x).allclose(HappyWhale.Imaging.ImageNetNormalization.Apply(x)));
        Assert.True(inverted.NormalizeInput(ones(1, 3, 2, 2)).eq(0).all().ToBoolean());   // white paper is zero
    }

    [Fact]
    public void State_dict_has_backbone_features_pool_neck_and_head_without_classifier()
    {
        using var model = ModelFactory.Create(Spec(), numClasses: 11);
        var sd = model.state_dict();
        Assert.Contains("backbone.features.0.0.weight", sd.Keys);
        Assert.Contains("backbone.features.8.1.num_batches_tracked", sd.Keys);
        Assert.DoesNotContain(sd.Keys, k => k.Contains("classifier"));
        Assert.Equal(new long[] { 128, 1280 }, sd["neck.fc.weight"].shape);
        Assert.Equal(new long[] { 128 }, sd["neck.bn.running_mean"].shape);
        Assert.Equal(new long[] { 11, 128 }, sd["head.weight"].shape);
        Assert.Equal(358, sd.Keys.Count(k => k.StartsWith("backbone.")));
        // backbone, no extra registrations: 358 backbone + neck (fc 2, bn 5) + head 1; GeM with fixed p has none
        Assert.All(sd.Keys, k => Assert.Matches("^(backbone|neck|head)\\.", k));
        Assert.Equal(358 + 7 + 1, sd.Count);
        long expectedParams = 5_288_548 - (1000 * 1280 + 1000) + (1280 * 128 + 128) + 2 * 128 + 11 * 128;
        Assert.Equal(expectedParams, model.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void Bn_neck_with_avg_pooling_keeps_feature_size()
    {
        using var _ = NewDisposeScope();
        using var model = ModelFactory.Create(Spec(pooling: PoolingType.Avg, neck: NeckType.Bn), numClasses: 3);
        Assert.Equal(1280, model.EmbeddingDim);
        model.eval();
        using (no_grad())
            Assert.Equal(new long[] { 2, 1280 }, model.call(randn(2, 3, 64, 64)).shape);
        Assert.DoesNotContain(model.state_dict().Keys, k => k.StartsWith("neck.fc"));
    }

    [Fact]
    public void Unknown_names_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => ModelFactory.Create(Spec() with { Backbone = "resnet9000" }, 3));
        // Pooling and neck are enums now: an unknown name stops when the experiment loads (ChoicesTests, the schema).
        Assert.Contains("efficientnet_b7", Backbones.Names);
    }
}
