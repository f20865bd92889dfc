using HappyWhale.Experiments;
using HappyWhale.Modeling;
using HappyWhale.Pipeline;
using HappyWhale.Tests.Experiments;

namespace HappyWhale.Tests.EndToEnd;

/// <summary>model.pretrained: imagenet through the pipeline: converted once into its own cache entry, loaded by the first phase.</summary>
public class ImageNetPretrainedTests
{
    static string Tiny => TinyExperiment.Yaml.Replace("model:\n  embedding_dim: 16", "model:\n  embedding_dim: 16\n  backbone: resnet18_imagenet_cntk\n  pretrained: imagenet");

    [Fact(Timeout = 600_000)]
    public async Task Weights_convert_once_and_the_first_phase_loads_every_tensor()
    {
        await Task.Run(() =>
        {
            using var repo = new TestRepository();
            repo.Write("tiny.yaml", Tiny);
            var options = new PipelineOptions(repo.Root);

            var first = new ExperimentPipeline(ExperimentLoader.Load(repo.Experiments, "tiny"), options).Run(StageNames.Evaluate);
            Assert.Equal(["synth", "prepare", "pretrained", "train", "evaluate"], first.Stages.Select(s => s.Stage));
            var weights = first.Last(StageNames.Pretrained)!;
            Assert.True(File.Exists(Path.Combine(weights.Folder, PretrainedStage.WeightsFile)));
            var train = first.Last(StageNames.Train)!;
            Assert.Equal(weights.Key, train.Manifest.Request["inputs"]![StageNames.Pretrained]!.GetValue<string>());
            // 22 convolutions, 22 BatchNorms (weight, bias, mean, var, count) and the mean image.
            Assert.StartsWith($"{PretrainedStage.WeightsFile}: loaded {22 + 22 * 5 + 1} tensors; 0 wrong shape, 0 missing, 0 unexpected",
                Path.GetFileName(train.Manifest.Summary["pretrained"]!.GetValue<string>()));

            var otherLr = new ExperimentPipeline(ExperimentLoader.Load(repo.Experiments, "tiny", ["train.phases.0.lr=2.0e-3"]), options).Run(StageNames.Train);
            var outcome = otherLr.Stages.ToDictionary(s => s.Stage, s => s.Outcome);
            Assert.Equal(CacheOutcome.Hit, outcome[StageNames.Pretrained]);
            Assert.Equal(CacheOutcome.Computed, outcome[StageNames.Train]);

            var scratch = TrainStage.Request(ExperimentLoader.Load(repo.Experiments, "tiny", ["model.pretrained=null"]), 0, 32, first.Last(StageNames.Prepare)!.Key, null);
            Assert.DoesNotContain(StageNames.Pretrained, scratch.Inputs.Keys);
            Assert.NotEqual(train.Key, scratch.Key);
        });
    }

    [Fact]
    public void Imagenet_with_another_backbone_stops_before_any_stage()
    {
        using var repo = new TestRepository();
        repo.Write("tiny.yaml", TinyExperiment.Yaml);
        var experiment = ExperimentLoader.Load(repo.Experiments, "tiny", ["model.backbone=resnet18", "model.pretrained=imagenet"]);
        var e = Assert.Throws<UserException>(() => new ExperimentPipeline(experiment, new PipelineOptions(repo.Root)).Run(StageNames.Evaluate));
        Assert.Contains("they fit model.backbone resnet18_imagenet_cntk, not 'resnet18'", e.Message);
        Assert.Empty(repo.CacheListing());
    }

    [Fact]
    public void Missing_package_files_are_named_with_what_to_do()
    {
        using var empty = new TempFolder();
        var e = Assert.Throws<UserException>(() => PretrainedStage.Request(CntkResNet.ImageNet18, empty.Path));
        Assert.Contains(Path.Combine(empty.Path, "ResNet18Onnx", "ResNet18.onnx"), e.Message);
        Assert.Contains("Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1", e.Message);
    }

    [Fact]
    public void Existing_experiments_keep_their_keys_shape_no_pretrained_input()
    {
        var repo = ExperimentFiles.RepoExperimentsDir;
        foreach (var name in new[] { "quickstart", "tricks_base", "omniglot" })
        {
            var e = ExperimentLoader.Load(repo, name);
            if (ImageNetPackage.IsRequestedBy(e.Spec.Model.Pretrained)) continue;
            var request = TrainStage.Request(e, 0, 64, "prep", null);
            Assert.Equal(["prepare"], request.Inputs.Keys);
        }
    }
}
