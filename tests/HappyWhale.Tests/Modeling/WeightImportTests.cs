using HappyWhale.Experiments;
using HappyWhale.Modeling;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace HappyWhale.Tests.Modeling;

public class WeightImportTests
{
    internal static ModelSpec Spec(string backbone = "efficientnet_b0") => new()
    {
        Backbone = backbone,
        Pooling = PoolingType.Gem,
        GemP = 3.0,
        EmbeddingDim = 32,
        Neck = NeckType.LinearBn,
        PretrainedStrict = true,
        SpeciesLossWeight = 0.1,
        Head = new HeadSpec { Type = HeadType.Arcface, S = 30.0, M = 0.3, K = 3, MarginA = 0.5, MarginB = -0.25, MarginC = 0.05 },
        Groups = new GroupsSpec { EarlyUntil = 4 },
    };

    /// <summary>A torchvision-named EfficientNet-B0 state dict (with classifier) as a name -> tensor copy.</summary>
    static Dictionary<string, Tensor> TorchvisionB0()
    {
        using var net = EfficientNet.Create("efficientnet_b0");
        return net.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone());
    }

    static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && (a == b).all().ToBoolean();

    [Fact]
    public void Strict_import_lists_every_wrong_shape_missing_and_unexpected_tensor_and_names_the_file()
    {
        using var tmp = new TempFolder();
        using var _ = NewDisposeScope();
        var sd = TorchvisionB0();
        sd["features.0.0.weight"] = zeros(16, 3, 3, 3);
        sd["features.8.0.weight"] = zeros(1280, 320);
        sd.Remove("features.8.1.running_var");
        sd.Remove("features.3.0.block.1.1.bias");
        sd["extra.weight"] = zeros(3);
        var path = tmp["bad.safetensors"];
        Safetensors.SaveStateDict(path, sd);

        using var model = ModelFactory.Create(Spec(), numClasses: 5);
        var before = model.state_dict()["backbone.features.1.0.block.0.0.weight"].clone();
        var e = Assert.Throws<UserException>(() => WeightImport.Load(model, path, strict: true));
        Assert.Contains(path, e.Message);
        Assert.Contains("backbone.features.0.0.weight: expected [32, 3, 3, 3], found [16, 3, 3, 3]", e.Message);
        Assert.Contains("backbone.features.8.0.weight: expected [1280, 320, 1, 1], found [1280, 320]", e.Message);
        Assert.Contains("missing backbone.features.8.1.running_var", e.Message);
        Assert.Contains("missing backbone.features.3.0.block.1.1.bias", e.Message);
        Assert.Contains("unexpected extra.weight", e.Message);
        Assert.DoesNotContain("classifier", e.Message);              // dropped, not an error
        Assert.DoesNotContain("   at ", e.Message);                  // no stack trace in the message
        // nothing was loaded
        Assert.True(Same(model.state_dict()["backbone.features.1.0.block.0.0.weight"], before));
    }

    [Fact]
    public void Non_strict_import_loads_the_matching_part_and_reports_the_rest()
    {
        using var tmp = new TempFolder();
        using var _ = NewDisposeScope();
        var sd = TorchvisionB0();
        sd["features.0.0.weight"] = zeros(16, 3, 3, 3);
        sd.Remove("features.8.1.running_var");
        sd["extra.weight"] = zeros(3);
        var path = tmp["partial.safetensors"];
        Safetensors.SaveStateDict(path, sd);

        using var model = ModelFactory.Create(Spec(), numClasses: 5);
        var report = WeightImport.Load(model, path, strict: false);
        Assert.False(report.IsComplete);
        Assert.Equal(358 - 2, report.Loaded.Count);
        Assert.Equal(["backbone.features.8.1.running_var"], report.Missing);
        Assert.Equal("backbone.features.0.0.weight", Assert.Single(report.ShapeMismatches).Name);
        Assert.Equal(["extra.weight"], report.Unexpected);
        Assert.Equal(["classifier.1.bias", "classifier.1.weight"], report.Dropped);
        Assert.Contains("missing backbone.features.8.1.running_var", report.Describe());
        Assert.Contains(path, report.Summary);
        var loaded = model.state_dict()["backbone.features.2.1.block.1.0.weight"];
        Assert.True(Same(loaded, sd["features.2.1.block.1.0.weight"]));
        Assert.False(model.state_dict()["backbone.features.0.0.weight"].abs().sum().ToDouble() == 0);   // mis-shaped: untouched
    }

    [Fact]
    public void Torch_save_files_load_with_and_without_the_backbone_prefix()
    {
        using var tmp = new TempFolder();
        using var _ = NewDisposeScope();
        using var source = ModelFactory.Create(Spec(), numClasses: 5);
        source.save_py(tmp["reid.pt"]);                                          // names backbone.*, neck.*, head.*
        using var features = EfficientNet.Create("efficientnet_b0", numClasses: 0);
        features.save_py(tmp["features.pt"]);                                    // names features.*

        using var a = ModelFactory.Create(Spec(), numClasses: 7);
        var r1 = WeightImport.Load(a, tmp["reid.pt"]);
        Assert.True(r1.IsComplete);
        Assert.Equal(358, r1.Loaded.Count);
        Assert.Contains("head.weight", r1.Dropped);                              // only the backbone is imported
        Assert.True(Same(a.state_dict()["backbone.features.5.0.block.0.0.weight"], source.state_dict()["backbone.features.5.0.block.0.0.weight"]));

        var r2 = WeightImport.Load(a, tmp["features.pt"]);
        Assert.True(r2.IsComplete);
        Assert.True(Same(a.state_dict()["backbone.features.5.0.block.0.0.weight"], features.state_dict()["features.5.0.block.0.0.weight"]));
    }

    [Fact]
    public void A_text_file_is_not_a_weights_file()
    {
        using var tmp = new TempFolder();
        var path = tmp["notes.pt"];
        File.WriteAllText(path, "these are not the weights you are looking for\n");
        using var model = ModelFactory.Create(Spec(), numClasses: 3);
        var e = Assert.Throws<UserException>(() => WeightImport.Load(model, path));
        Assert.Contains(path, e.Message);
        Assert.Contains("not a weights file", e.Message);

        var missing = tmp["nope.safetensors"];
        var e2 = Assert.Throws<UserException>(() => WeightImport.Load(model, missing));
        Assert.Contains(missing, e2.Message);
        Assert.Contains("not found", e2.Message);
    }

    [Fact]
    public void A_broken_file_with_a_weights_signature_is_a_user_error_naming_the_file()
    {
        using var tmp = new TempFolder();
        var path = tmp["truncated.pt"];
        File.WriteAllBytes(path, [(byte)'P', (byte)'K', 3, 4, 0, 0, 1, 2, 3, 4]);
        using var model = ModelFactory.Create(Spec(), numClasses: 3);
        var e = Assert.Throws<UserException>(() => WeightImport.Load(model, path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Pretrained_path_resolves_against_the_repository_root_and_the_loader_uses_it()
    {
        using var tmp = new TempFolder();
        using var _ = NewDisposeScope();
        Directory.CreateDirectory(tmp["weights"]);
        using var features = EfficientNet.Create("efficientnet_b0", numClasses: 0);
        features.save_py(tmp.Combine("weights", "b0.pt"));
        Assert.Equal(tmp.Combine("weights", "b0.pt"), RepoPath.Resolve("weights/b0.pt", tmp.Path));

        using var model = ModelFactory.Create(Spec(), numClasses: 3);
        Assert.Null(ModelFactory.LoadPretrained(model, Spec(), tmp.Path));
        var report = ModelFactory.LoadPretrained(model, Spec() with { Pretrained = "weights/b0.pt" }, tmp.Path);
        Assert.NotNull(report);
        Assert.True(report!.IsComplete);
        Assert.Equal(64, WeightImport.Sha256(tmp.Combine("weights", "b0.pt")).Length);
    }
}
