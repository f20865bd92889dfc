using System.Text.Json;
using System.Text.Json.Nodes;
using HappyWhale.Experiments;

namespace HappyWhale.Tests.Experiments;

public class ResolvedExperimentTests
{
    private static readonly string Repo = ExperimentFiles.RepoExperimentsDir;

    [Fact]
    public void Flatten_gives_dotted_invariant_text_in_defaults_order()
    {
        var flat = ExperimentLoader.Load(Repo, "defaults", ["train.phases.1.epochs=5"]).Flatten();
        Assert.Equal("name", flat.Keys.First());
        Assert.Equal("tracking.log_model", flat.Keys.Last());
        Assert.Equal("defaults", flat["name"]);
        Assert.Equal("3", flat["train.phases.0.epochs"]);
        Assert.Equal("0.001", flat["train.phases.0.lr"]);
        Assert.Equal("null", flat["train.phases.0.image_size"]);
        Assert.Equal("5", flat["train.phases.1.epochs"]);
        Assert.Equal("false", flat["prepare.grayscale"]);
        Assert.Equal("30", flat["model.head.s"]);
        Assert.Equal("0.0001", flat["train.weight_decay"]);
        Assert.Equal("", flat["description"]);
        Assert.DoesNotContain("train.phases", flat.Keys);
    }

    [Fact]
    public void A_password_in_a_uri_is_masked_in_what_leaves_the_process_but_kept_for_connecting()
    {
        var e = ExperimentLoader.Load(Repo, "defaults", ["tracking.uri=https://alice:s3cret-pw@mlflow.example.com:5000"]);
        Assert.Equal("https://***@mlflow.example.com:5000", e.Flatten()["tracking.uri"]);
        Assert.DoesNotContain("s3cret-pw", e.ToYaml());
        Assert.Contains("uri: https://***@mlflow.example.com:5000", e.ToYaml());
        Assert.Equal("https://alice:s3cret-pw@mlflow.example.com:5000", e.Spec.Tracking.Uri);
    }

    [Fact]
    public void Spec_binds_every_key_of_the_tree()
    {
        var exp = ExperimentLoader.Load(Repo, "quickstart", ["train.phases=[{epochs: 1}, {epochs: 2, image_size: 96, lr: 5e-4}]"]);
        Assert.Equal(96, exp.Spec.Train.Phases[1].ImageSize);
        Assert.Equal(30.0, exp.Spec.Model.Head.S);
        // Serializing the records back must give the tree: a key without a property (or the reverse) fails here.
        var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) } };
        var back = JsonSerializer.SerializeToNode(exp.Spec, options);
        Assert.Equal(CanonicalJson.Serialize(exp.Tree), CanonicalJson.Serialize(back));
    }

    [Fact]
    public void Section_returns_a_copy_of_a_subtree()
    {
        var exp = ExperimentLoader.Load(Repo, "quickstart", []);
        var head = exp.Section("model.head")!.AsObject();
        Assert.Equal(["type", "k", "s", "m", "easy_margin", "dynamic_margin", "margin_a", "margin_b", "margin_c", "margin_warmup"], head.Select(p => p.Key));
        Assert.Equal(10, exp.Section("train.phases.0.epochs")!.GetValue<long>());   // experiments/quickstart.yaml
        head["s"] = 1.0;
        Assert.Equal(30.0, exp.Section("model.head.s")!.GetValue<double>());
        Assert.Throws<KeyNotFoundException>(() => exp.Section("model.nope"));
        Assert.Equal(CanonicalJson.Serialize(exp.Tree), CanonicalJson.Serialize(exp.Section("")));
    }

    [Fact]
    public void Tree_is_in_defaults_order_whatever_the_file_order()
    {
        using var files = new ExperimentFiles();
        files.Write("e.yaml", "tracking:\n  uri: file:///x\ntrain:\n  seed: 9\n  batch_size: 4\ndata:\n  seed: 3\n");
        var tree = files.Load("e").Tree;
        Assert.Equal(["name", "description", "data", "synth", "prepare", "model", "train", "evaluate", "pseudo_label", "cache", "executor", "slurm", "tracking"], tree.Select(p => p.Key));
        Assert.Equal("phases", tree["train"]!.AsObject().First().Key);
    }

    [Fact]
    public void ToYaml_round_trips_through_the_loader()
    {
        using var files = new ExperimentFiles();
        var original = ExperimentLoader.Load(Repo, "quickstart",
            ["description='needs: quoting # here'", "data.root=yes", "train.phases.1.epochs=2", "model.gem_p=4", "train.phases.0.lr=1e-5"]);
        var yaml = original.ToYaml();
        Assert.Contains("\n  gem_p: 4.0\n", yaml);
        Assert.Contains("\n    - image_size: null\n      epochs: 10\n", yaml);
        files.Write("resolved.yaml", yaml);
        var reloaded = files.Load("resolved");
        Assert.Equal("quickstart", reloaded.Name);
        Assert.Equal("needs: quoting # here", reloaded.Spec.Description);
        Assert.Equal("yes", reloaded.Spec.Data.Root);
        Assert.Contains("\n  root: \"yes\"\n", yaml);
        Assert.Equal(CanonicalJson.Serialize(original.Tree), CanonicalJson.Serialize(reloaded.Tree));
    }

    [Fact]
    public void Diff_lists_the_keys_that_differ()
    {
        var a = ExperimentLoader.Load(Repo, "defaults", []);
        var b = ExperimentLoader.Load(Repo, "defaults", ["train.batch_size=64", "train.phases.1.epochs=2", "model.head.s=30"]);
        var diff = ExperimentDiff.Diff(a, b);
        Assert.Equal(
            [
                new ExperimentDifference("train.phases.1.image_size", null, "null"),
                new ExperimentDifference("train.phases.1.epochs", null, "2"),
                new ExperimentDifference("train.phases.1.lr", null, "0.001"),
                new ExperimentDifference("train.phases.1.batch_size", null, "null"),
                new ExperimentDifference("train.batch_size", "32", "64"),
            ],
            diff.OrderBy(d => d.Key == "train.batch_size"));
        Assert.Empty(ExperimentDiff.Diff(a, a));
    }
}
