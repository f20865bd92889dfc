using HappyWhale.Experiments;

namespace HappyWhale.Tests.Experiments;

public class ExperimentLoaderTests
{
    private static readonly string Repo = ExperimentFiles.RepoExperimentsDir;

    [Fact]
    public void Defaults_load_and_bind()
    {
        var exp = ExperimentLoader.Load(Repo, "defaults", []);
        Assert.Equal("defaults", exp.Name);
        Assert.Equal(3, exp.Spec.Train.Phases[0].Epochs);
        Assert.Null(exp.Spec.Train.Phases[0].ImageSize);
        Assert.Equal(1e-3, exp.Spec.Train.Phases[0].Lr);
        Assert.Equal(30.0, exp.Spec.Model.Head.S);
        Assert.Null(exp.Spec.Data.Root);
        Assert.Equal("happywhale", exp.Spec.Tracking.Experiment);
    }

    [Fact]
    public void Repository_quickstart_loads_and_validates()
    {
        var exp = ExperimentLoader.Load(Repo, "quickstart", []);
        Assert.Equal("quickstart", exp.Name);
        Assert.Equal(Path.Combine(Repo, "quickstart.yaml"), exp.SourcePath);
        Assert.Equal(10, exp.Spec.Train.Phases[0].Epochs);
        Assert.Equal(2e-3, exp.Spec.Train.Phases[0].Lr);
        Assert.Null(exp.Spec.Train.Phases[0].ImageSize);
        Assert.Equal(6, exp.Spec.Synth.ImagesPerIndividual);
        Assert.Equal("resnet18_imagenet_cntk", exp.Spec.Model.Backbone);
        Assert.Equal("imagenet", exp.Spec.Model.Pretrained);
    }

    [Fact]
    public void Every_repository_experiment_loads()
    {
        var overlays = Directory.EnumerateFiles(Path.Combine(Repo, ExperimentLoader.OverlaysFolder), "*.yaml")
            .Select(f => Path.GetFileNameWithoutExtension(f)!).ToList();
        Assert.NotEmpty(overlays);
        foreach (var file in Directory.EnumerateFiles(Repo, "*.yaml", SearchOption.AllDirectories)
                     .Where(f => !f.Contains(Path.DirectorySeparatorChar + ExperimentLoader.OverlaysFolder + Path.DirectorySeparatorChar)
                                 && !f.Contains(Path.DirectorySeparatorChar + AblationLoader.Folder + Path.DirectorySeparatorChar)
                                 && Path.GetFileName(f) != "baselines.yaml"))
        {
            ExperimentLoader.Load(Repo, file, []);
            // Every overlay (e.g. the CPU one) must apply cleanly to every experiment.
            foreach (var overlay in overlays) ExperimentLoader.Load(Repo, file, [], [overlay]);
        }
    }

    [Fact]
    public void Every_repository_ablation_loads_with_every_variant_and_seed()
    {
        foreach (var file in Directory.EnumerateFiles(Path.Combine(Repo, AblationLoader.Folder), "*.yaml"))
        {
            var ablation = AblationLoader.Load(Repo, Path.GetFileNameWithoutExtension(file));
            Assert.NotEmpty(ablation.Variants);
            Assert.All(ablation.Variants, v => Assert.Equal(Math.Max(1, ablation.Seeds.Count), v.Runs.Count));
        }
    }

    [Fact]
    public void Names_resolve_with_or_without_yaml_in_subfolders_and_as_paths()
    {
        using var files = new ExperimentFiles();
        var path = files.Write("ci/smoke.yaml", "description: smoke\n");
        Assert.Equal("ci/smoke", files.Load("ci/smoke").Name);
        Assert.Equal("ci/smoke", files.Load("ci/smoke.yaml").Name);
        Assert.Equal("ci/smoke", files.Load(path).Name);
        Assert.Equal(path, files.Load("ci/smoke").SourcePath);

        var e = files.Fail("nope");
        Assert.Contains("no such experiment", e.Message);
    }

    [Fact]
    public void Empty_and_comment_only_files_are_all_defaults()
    {
        using var files = new ExperimentFiles();
        files.Write("empty.yaml", "");
        files.Write("comments.yaml", "# nothing yet\n\n# still nothing\n");
        var defaults = ExperimentLoader.Load(files.Dir, "defaults", []).Flatten().Skip(1);
        Assert.Equal(defaults, files.Load("empty").Flatten().Skip(1));
        Assert.Equal(defaults, files.Load("comments").Flatten().Skip(1));
    }

    [Fact]
    public void Anchors_and_aliases_are_followed()
    {
        using var files = new ExperimentFiles();
        files.Write("e.yaml", "data:\n  seed: &s 11\nsynth:\n  seed: *s\n");
        Assert.Equal(11, files.Load("e").Spec.Synth.Seed);
    }

    [Fact]
    public void Explicit_name_wins_but_is_not_inherited()
    {
        using var files = new ExperimentFiles();
        files.Write("base.yaml", "name: the base\n");
        files.Write("child.yaml", "extends: base.yaml\n");
        Assert.Equal("the base", files.Load("base").Name);
        Assert.Equal("child", files.Load("child").Name);
    }

    [Fact]
    public void Extends_merges_maps_and_replaces_lists()
    {
        using var files = new ExperimentFiles();
        files.Write("base.yaml", """
            model:
              embedding_dim: 512
              head:
                s: 64.0
                m: 0.5
            train:
              phases:
                - {epochs: 2, image_size: 128}
                - {epochs: 4, image_size: 256}
              augment:
                hflip: 0.0
            """);
        files.Write("child.yaml", """
            extends: base.yaml
            model:
              head:
                m: 0.4
            train:
              phases:
                - epochs: 6
            """);
        var spec = files.Load("child").Spec;
        Assert.Equal(512, spec.Model.EmbeddingDim);
        Assert.Equal(64.0, spec.Model.Head.S);
        Assert.Equal(0.4, spec.Model.Head.M);
        Assert.Equal(0.0, spec.Train.Augment.Hflip);
        Assert.Equal(0.0, spec.Train.Augment.RotateDeg);
        var phase = Assert.Single(spec.Train.Phases);
        Assert.Equal(6, phase.Epochs);
        Assert.Null(phase.ImageSize);
        Assert.Equal(1e-3, phase.Lr);
    }

    [Fact]
    public void Extends_chains_across_folders()
    {
        using var files = new ExperimentFiles();
        files.Write("root.yaml", "data:\n  folds: 10\n  fold: 3\n");
        files.Write("ci/mid.yaml", "extends: root\ndata:\n  fold: 4\nprepare:\n  image_size: 32\n");
        files.Write("ci/leaf.yaml", "extends: mid.yaml\nprepare:\n  grayscale: true\n");
        var spec = files.Load("ci/leaf").Spec;
        Assert.Equal(10, spec.Data.Folds);
        Assert.Equal(4, spec.Data.Fold);
        Assert.Equal(32, spec.Prepare.ImageSize);
        Assert.True(spec.Prepare.Grayscale);
    }

    [Fact]
    public void Extends_cycle_is_an_error_at_the_closing_extends()
    {
        using var files = new ExperimentFiles();
        files.Write("a.yaml", "extends: b.yaml\n");
        var b = files.Write("b.yaml", "description: b\nextends: a.yaml\n");
        var error = Assert.Single(files.Fail("a").Errors);
        Assert.Equal(b, error.Source);
        Assert.Equal((2, 10), (error.Line, error.Column));
        Assert.Contains("extends cycle: a.yaml -> b.yaml -> a.yaml", error.Message);
    }

    [Fact]
    public void Missing_extends_target_is_an_error_at_its_value()
    {
        using var files = new ExperimentFiles();
        var path = files.Write("x.yaml", "# comment\nextends:   gone.yaml\n");
        var error = Assert.Single(files.Fail("x").Errors);
        Assert.Equal((path, 2, 12), (error.Source, error.Line, error.Column));
        Assert.Contains("cannot find 'gone.yaml'", error.Message);
    }

    [Fact]
    public void Set_overrides_convert_to_the_key_type()
    {
        using var files = new ExperimentFiles();
        files.Write("e.yaml", "");
        var spec = files.Load("e",
            "train.batch_size=64",
            "train.phases.0.lr=3e-4",
            "model.head.s=64",
            "prepare.grayscale=true",
            "data.root=/data/happywhale",
            "description=a b c").Spec;
        Assert.Equal(64, spec.Train.BatchSize);
        Assert.Equal(3e-4, spec.Train.Phases[0].Lr);
        Assert.Equal(3, spec.Train.Phases[0].Epochs);
        Assert.Equal(64.0, spec.Model.Head.S);
        Assert.True(spec.Prepare.Grayscale);
        Assert.Equal("/data/happywhale", spec.Data.Root);
        Assert.Equal("a b c", spec.Description);
    }

    [Fact]
    public void Set_replaces_lists_and_indexes_into_them()
    {
        using var files = new ExperimentFiles();
        files.Write("e.yaml", "");
        var spec = files.Load("e", "train.phases=[{epochs: 2}, {epochs: 4, image_size: 128}]", "train.phases.1.lr=0.01").Spec;
        Assert.Equal([2, 4], spec.Train.Phases.Select(p => p.Epochs));
        Assert.Equal([null, 128], spec.Train.Phases.Select(p => p.ImageSize));
        Assert.Equal([1e-3, 0.01], spec.Train.Phases.Select(p => p.Lr));

        var appended = files.Load("e", "train.phases.1.epochs=7").Spec;
        Assert.Equal([3, 7], appended.Train.Phases.Select(p => p.Epochs));

        var nulled = files.Load("e", "data.root=/x", "data.root=null").Spec;
        Assert.Null(nulled.Data.Root);
    }

    [Fact]
    public void Set_applies_after_the_file_and_in_order()
    {
        using var files = new ExperimentFiles();
        files.Write("e.yaml", "train:\n  batch_size: 8\n");
        Assert.Equal(16, files.Load("e", "train.batch_size=12", "train.batch_size=16").Spec.Train.BatchSize);
    }
}
