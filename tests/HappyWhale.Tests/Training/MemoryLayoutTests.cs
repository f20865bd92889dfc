using HappyWhale.Experiments;
using HappyWhale.Imaging;
using HappyWhale.Modeling;
using HappyWhale.Tests.Modeling;
using HappyWhale.Training;
using static TorchSharp.torch;

namespace HappyWhale.Tests.Training;

/// <summary>train.memory_format: channels-last batches hold the same values and train the same model to the same loss.</summary>
[Collection(DeviceTrainingCollection.Name)]
public class MemoryLayoutTests
{
    [Fact]
    public void A_channels_last_batch_has_the_same_values_with_channels_innermost()
    {
        using var scope = NewDisposeScope();
        var x = rand(2, 3, 5, 4);
        var cl = MemoryLayout.Apply(x, MemoryFormat.ChannelsLast);
        Assert.False(MemoryLayout.IsChannelsLast(x));
        Assert.True(MemoryLayout.IsChannelsLast(cl));
        Assert.Equal(x.shape, cl.shape);
        Assert.True(x.allclose(cl, rtol: 0, atol: 0));
        Assert.Same(x, MemoryLayout.Apply(x, MemoryFormat.Contiguous));
    }

    [Fact]
    public void A_network_fed_channels_last_keeps_the_layout_and_its_training_loss()
    {
        double FirstStepLoss(MemoryFormat format)
        {
            manual_seed(11);
            using var model = ModelFactory.Create(WeightImportTests.Spec("efficientnet_b0"), numClasses: 3);
            var spec = DeviceTrainingTests.Train() with { BatchSize = 8, Seed = 3, Augment = new AugmentSpec { RotateDeg = 10, Scale = 0.1 }, MemoryFormat = format };
            var history = new Trainer(spec, NullTrainingObserver.Instance).RunPhase(model, InMemoryImages.Random(8, 32),
                new LabelledRows(Enumerable.Range(0, 8).ToList(), DeviceTrainingTests.Labels, 3), new PhaseSpec { Epochs = 1, Lr = 1e-3 }, 0);
            return history[^1].Loss;
        }

        // The layout reaches the last feature map: oneDNN's convolutions hand channels-last activations on.
        using (var scope = NewDisposeScope())
        {
            manual_seed(11);
            using var model = ModelFactory.Create(WeightImportTests.Spec("efficientnet_b0"), numClasses: 3);
            var features = ((IFeatureExtractor)model.Backbone).ForwardFeatures(MemoryLayout.Apply(rand(2, 3, 96, 96), MemoryFormat.ChannelsLast));
            Assert.True(MemoryLayout.IsChannelsLast(features), $"strides {string.Join(",", features.stride())}");
        }

        // One step of all eight images: its loss is computed before the update. (Compared after several AdamW steps the runs
        // part further: Adam turns rounding-sized gradients of idle weights into full-sized steps.)
        double contiguous = FirstStepLoss(MemoryFormat.Contiguous), channelsLast = FirstStepLoss(MemoryFormat.ChannelsLast);
        // Same draws, same weights, the same arithmetic in another order: equal to float rounding, not bitwise.
        Assert.InRange(channelsLast, contiguous * (1 - 1e-4), contiguous * (1 + 1e-4));
    }
}
