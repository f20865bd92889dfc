using HappyWhale.Experiments;
using HappyWhale.Imaging;
using HappyWhale.Modeling;
using HappyWhale.Tests.EndToEnd;
using HappyWhale.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Tests.Training;

public class TrainingControlTests
{
    static ExperimentSpec Spec(params string[] sets) =>
        ExperimentLoader.Load(Path.Combine(TestRepository.SourceRoot(), "experiments"), "quickstart",
            ["model.backbone=efficientnet_b0", "model.pretrained=null", "model.embedding_dim=16", "train.validate_each_epoch=false", .. sets]).Spec;

    [Fact]
    public void Warmup_cosine_rates_at_given_steps()
    {
        var s = WarmupCosineSchedule.ForPhase(peak: 1.0, totalSteps: 101, warmupShare: 0.1, floorRatio: 0.01);
        Assert.Equal(10, s.WarmupSteps);
        Assert.Equal(0.1, s.At(0), 12);
        Assert.Equal(1.0, s.At(9), 12);
        Assert.Equal(1.0, s.At(10), 12);
        Assert.Equal(0.01 + 0.99 * 0.5, s.At(55), 12);   // half way through the 90 decay steps
        Assert.Equal(0.01, s.At(100), 12);
    }

    [Fact]
    public void Ramp_sustain_decay_rates_at_given_steps()
    {
        var s = new RampSchedule(Peak: 1.0, StepsPerEpoch: 10, StartRatio: 0.1, RampEpochs: 2, SustainEpochs: 1, Decay: 0.5, FloorRatio: 0.0);
        Assert.Equal(0.1, s.At(0), 12);
        Assert.Equal(0.55, s.At(10), 12);
        Assert.Equal(1.0, s.At(20), 12);
        Assert.Equal(1.0, s.At(29), 12);
        Assert.Equal(0.5, s.At(40), 12);
        Assert.Equal(0.25, s.At(50), 12);
        var floored = s with { FloorRatio = 0.2 };
        Assert.Equal(0.2 + 0.8 * 0.25, floored.At(50), 12);
    }

    [Fact]
    public void Each_parameter_group_gets_its_multiplier()
    {
        var spec = Spec("train.lr_groups.stem=0.1", "train.lr_groups.late=0.5", "train.lr_groups.head=10");
        using var model = ModelFactory.Create(spec.Model, 4);
        using var grouped = new GroupedOptimizer(model, spec.Train, spec.Model.Groups.EarlyUntil, 0.01);
        grouped.SetLearningRate(0.01);
        var rates = grouped.LearningRates();
        Assert.Equal(["stem", "early", "late", "neck", "head"], rates.Keys);
        Assert.Equal(0.001, rates["stem"], 12);
        Assert.Equal(0.01, rates["early"], 12);
        Assert.Equal(0.005, rates["late"], 12);
        Assert.Equal(0.01, rates["neck"], 12);
        Assert.Equal(0.1, rates["head"], 12);
    }

    [Fact]
    public void Frozen_groups_keep_weights_and_batchnorm_statistics_while_the_rest_trains()
    {
        var spec = Spec("train.unfreeze.stem=5", "train.unfreeze.early=5", "train.augment.hflip=0", "train.batch_size=8");
        torch.manual_seed(3);
        using var model = ModelFactory.Create(spec.Model, 4);
        var before = model.state_dict().ToDictionary(p => p.Key, p => p.Value.clone());
        var images = InMemoryImages.Random(16, 32, seed: 7);
        var rows = new LabelledRows(Enumerable.Range(0, 16).ToList(), Enumerable.Range(0, 16).Select(i => (long)(i % 4)).ToList(), 4);
        new Trainer(spec.Train, NullTrainingObserver.Instance, spec.Model.Groups.EarlyUntil)
            .RunPhase(model, images, rows, new PhaseSpec { Epochs = 1, Lr = 1e-2 }, 0);

        var after = model.state_dict();
        bool Same(string name) => before[name].eq(after[name]).all().item<bool>();
        // features.0 is the stem, features.1..3 the early stages (early_until = 4).
        var frozen = after.Keys.Where(k => k.StartsWith("backbone.features.0.") || k.StartsWith("backbone.features.1.")
                                           || k.StartsWith("backbone.features.3.")).ToList();
        Assert.Contains(frozen, k => k.EndsWith("running_mean"));
        Assert.All(frozen, k => Assert.True(Same(k), $"{k} changed although its group is frozen"));
        Assert.False(Same("head.weight"));
        Assert.False(Same("backbone.features.6.0.block.0.0.weight"));
        Assert.False(Same("backbone.features.6.0.block.0.1.running_mean"));
    }

    [Fact]
    public void The_same_seed_gives_the_same_augmented_batch()
    {
        var spec = Spec("train.augment.rotate_deg=15", "train.augment.scale=0.1", "train.augment.shift=0.1", "train.augment.cutout=0.5",
            "train.augment.brightness=0.2", "train.augment.contrast=0.2", "train.augment.saturation=0.2", "train.augment.hue=0.05",
            "train.augment.gray_p=0.3").Train.Augment;
        var batch = rand(new long[] { 6, 3, 24, 24 }, generator: new Generator(1, CPU));
        var augment = new TensorAugment(spec);
        using var a = augment.Apply(batch, new Generator(42, CPU));
        using var b = augment.Apply(batch, new Generator(42, CPU));
        using var c = augment.Apply(batch, new Generator(43, CPU));
        Assert.True(a.eq(b).all().item<bool>());
        Assert.False(a.eq(c).all().item<bool>());
        Assert.Equal(batch.shape, a.shape);
        Assert.True(a.min().item<float>() >= 0 && a.max().item<float>() <= 1);
        Assert.False(a.eq(batch).all().item<bool>());
    }
}
