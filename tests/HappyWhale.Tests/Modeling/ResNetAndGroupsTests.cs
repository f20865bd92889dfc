using HappyWhale.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Tests.Modeling;

public class ResNetTests
{
    // torchvision.models.resnetN() parameter counts with the 1000-class fc (measured with torchvision 0.14).
    [Theory]
    [InlineData("resnet18", 11_689_512, 512)]
    [InlineData("resnet34", 21_797_672, 512)]
    [InlineData("resnet50", 25_557_032, 2048)]
    public void Parameter_counts_match_torchvision(string variant, long withFc, long channels)
    {
        using var full = ResNetBackbone.Variants[variant].Build();
        Assert.Equal(withFc, full.parameters().Sum(p => p.numel()));
        using var backbone = (ResNetBackbone)Backbones.Create(variant);
        Assert.Equal(channels, backbone.FeatureChannels);
        Assert.Equal(withFc - (channels * 1000 + 1000), backbone.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void Feature_extractor_uses_torchvision_names_without_fc()
    {
        using var r18 = ResNetBackbone.Create("resnet18");
        var sd = r18.state_dict();
        Assert.Equal(122 - 2, sd.Count);   // torchvision resnet18 state dict: 122 entries with fc.weight, fc.bias
        Assert.Equal(new long[] { 64, 3, 7, 7 }, sd["conv1.weight"].shape);
        Assert.Contains("bn1.running_var", sd.Keys);
        Assert.Equal(new long[] { 128, 64, 1, 1 }, sd["layer2.0.downsample.0.weight"].shape);
        Assert.Contains("layer4.1.bn2.num_batches_tracked", sd.Keys);
        Assert.DoesNotContain(sd.Keys, k => k.StartsWith("fc."));
        using var r50 = ResNetBackbone.Create("resnet50");
        Assert.Equal(new long[] { 256, 64, 1, 1 }, r50.state_dict()["layer1.0.conv3.weight"].shape);
        Assert.Equal(320 - 2, r50.state_dict().Count);
    }

    [Fact]
    public void Forward_gives_the_last_feature_map()
    {
        using var _ = NewDisposeScope();
        using var r18 = ResNetBackbone.Create("resnet18");
        r18.eval();
        using (no_grad())
        {
            var x = randn(2, 3, 64, 64);
            Assert.Equal(new long[] { 2, 512, 2, 2 }, r18.ForwardFeatures(x).shape);
            var (previous, last) = r18.ForwardLastTwo(x);
            Assert.Equal(new long[] { 2, 256, 4, 4 }, previous.shape);
            Assert.True(last.allclose(r18.call(x)));
        }
    }

    [Fact]
    public void Registered_as_backbones()
    {
        foreach (var name in new[] { "resnet18", "resnet34", "resnet50" }) Assert.Contains(name, Backbones.Names);
    }
}

public class ParameterGroupTests
{
    [Theory]
    [InlineData("efficientnet_b0", 4, 32 * 27 + 2 * 32)]
    [InlineData("resnet18", 3, 64 * 3 * 49 + 2 * 64)]
    public void Every_parameter_is_in_exactly_one_group(string backbone, int earlyUntil, long stemParams)
    {
        var spec = WeightImportTests.Spec(backbone) with { GemLearnable = true, SpeciesHead = true };
        using var model = ModelFactory.Create(spec, numClasses: 5, numSpecies: 2);
        var groups = model.ParameterGroups(earlyUntil);
        Assert.Equal(new[] { "stem", "early", "late", "neck", "head" }, groups.Select(g => g.Name));
        var all = model.parameters().Select(p => p.Handle).ToList();
        var grouped = groups.SelectMany(g => g.Parameters).Select(p => p.Handle).ToList();
        Assert.Equal(all.Count, grouped.Count);
        Assert.Equal(all.ToHashSet(), grouped.ToHashSet());
        Assert.Equal(grouped.Count, grouped.Distinct().Count());
        Assert.All(groups, g => Assert.NotEmpty(g.Parameters));

        var byName = groups.ToDictionary(g => g.Name, g => g.Parameters);
        Assert.Equal(stemParams, byName["stem"].Sum(p => p.numel()));
        Assert.Equal(2, byName["head"].Count);                               // head.weight, species_head.weight
        Assert.Equal(1 + 2 + 2, byName["neck"].Count);                        // pool.p, neck.fc.{weight,bias}, neck.bn.{weight,bias}
    }

    [Fact]
    public void Efficientnet_split_point_follows_early_until()
    {
        using var model = ModelFactory.Create(WeightImportTests.Spec(), numClasses: 3);
        var names = model.named_parameters().ToDictionary(p => p.parameter.Handle, p => p.name);
        var groups = model.ParameterGroups(earlyUntil: 4).ToDictionary(g => g.Name, g => g.Parameters.Select(p => names[p.Handle]).ToList());
        Assert.All(groups["stem"], n => Assert.StartsWith("backbone.features.0.", n));
        Assert.All(groups["early"], n => Assert.Matches(@"^backbone\.features\.[123]\.", n));
        Assert.All(groups["late"], n => Assert.Matches(@"^backbone\.features\.[45678]\.", n));
        Assert.Contains("backbone.features.3.0.block.0.0.weight", groups["early"]);
        Assert.Contains("backbone.features.4.0.block.0.0.weight", groups["late"]);
        Assert.Equal(["head.weight"], groups["head"]);
    }
}
