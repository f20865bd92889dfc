using HappyWhale.Experiments;
using HappyWhale.Imaging;
using HappyWhale.Modeling;
using HappyWhale.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Tests.Modeling;

public class TrainerHeadOptionsTests
{
    [Fact]
    public void A_phase_trains_with_subcenters_dynamic_margins_species_head_and_label_smoothing()
    {
        torch.manual_seed(3);
        var spec = WeightImportTests.Spec("resnet18") with
        {
            SpeciesHead = true, SpeciesLossWeight = 0.5, ConcatLastTwo = true, GemLearnable = true,
            Head = WeightImportTests.Spec().Head with { Type = HeadType.Subcenter, K = 2, DynamicMargin = true },
        };
        using var model = ModelFactory.Create(spec, numClasses: 3, numSpecies: 2);
        long[] labels = [0, 0, 0, 0, 1, 1, 2, 2];
        var data = new LabelledRows(Enumerable.Range(0, 8).ToList(), labels, 3,
            DynamicMargins.FromLabels(labels, 3, 0.5, -0.25, 0.05), [0, 0, 0, 0, 1, 1, 1, 1]);
        var train = new TrainSpec
        {
            BatchSize = 4, Optimizer = OptimizerType.Adamw, WeightDecay = 0, Warmup = 0, MinLr = 0.1, LabelSmoothing = 0.1,
            Augment = new AugmentSpec { Hflip = 0, RotateDeg = 0 }, Seed = 1, Threads = 0, Device = "cpu", Accumulate = 1,
            LrGroups = new GroupValues<double> { Stem = 1, Early = 1, Late = 1, Neck = 1, Head = 1 },
            Unfreeze = new GroupValues<int>(),
        };
        var before = model.SpeciesHead!.Weight.detach().clone();
        var history = new Trainer(train, NullTrainingObserver.Instance)
            .RunPhase(model, InMemoryImages.Random(8, 32), data, new PhaseSpec { Epochs = 2, Lr = 1e-3 }, 0);
        Assert.Equal(2, history.Count);
        Assert.All(history, h => Assert.True(double.IsFinite(h.Loss)));
        Assert.False((model.SpeciesHead!.Weight == before).all().ToBoolean());   // the species loss reached its head
        before.Dispose();
    }
}
