using HappyWhale.Experiments;
using HappyWhale.Modeling;
using HappyWhale.Tests.Experiments;

namespace HappyWhale.Tests.Modeling;

public sealed class BackbonesTests
{
    /// <summary>experiments/defaults.yaml is the schema users read; the registry is what the code can build. One list.</summary>
    [Fact]
    public void The_schema_lists_exactly_the_registered_backbones()
    {
        var schema = SchemaFromDefaults.Load(ExperimentFiles.DefaultsPath);
        var listed = schema.Find("model.backbone")!.Choices!.Order(StringComparer.Ordinal).ToList();
        var registered = Backbones.Names.Where(n => !n.StartsWith("test_", StringComparison.Ordinal)).ToList();
        Assert.True(listed.SequenceEqual(registered),
            $"model.backbone in defaults.yaml lists {string.Join("|", listed)}; the registry holds {string.Join("|", registered)}. " +
            "Add the family's names to the schema comment, or register them in the family's file.");
    }

    [Fact]
    public void Every_family_registered_itself_and_an_unknown_name_says_what_is_known()
    {
        foreach (var name in new[] { "efficientnet_b0", "efficientnet_b7", "resnet18", "resnet50", CntkResNet.ImageNet18 })
            Assert.True(Backbones.Contains(name), name);
        var e = Assert.Throws<ArgumentException>(() => Backbones.Create("resnet19"));
        Assert.Contains("resnet18", e.Message);
    }
}
