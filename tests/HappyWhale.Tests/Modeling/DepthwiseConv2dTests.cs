using HappyWhale.Experiments;
using HappyWhale.Modeling;
using HappyWhale.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Tests.Modeling;

/// <summary>DepthwiseConv2d: Conv2d's output and gradients, whichever way its weight gradient is computed.</summary>
public class DepthwiseConv2dTests
{
    [Theory]
    [InlineData(16, 2, 5, 1, true)]    // B0 at 64 px, last stage: map smaller than the filter
    [InlineData(16, 4, 5, 1, true)]
    [InlineData(16, 4, 5, 2, true)]    // strided: the correlation is dilated
    [InlineData(16, 3, 5, 2, true)]    // odd map, strided
    [InlineData(16, 2, 3, 1, true)]
    [InlineData(16, 8, 5, 1, true)]    // unstrided up to 16x16
    [InlineData(16, 4, 3, 1, false)]   // 3x3 on a map at least that large: oneDNN's direct kernel
    [InlineData(16, 8, 5, 2, false)]   // strided above 4x4
    [InlineData(16, 32, 5, 1, false)]  // large map
    public void Matches_a_grouped_Conv2d_in_output_and_both_gradients(int channels, int size, int kernel, int stride, bool correlation)
    {
        foreach (var layout in new[] { MemoryFormat.Contiguous, MemoryFormat.ChannelsLast })
        {
            using var scope = NewDisposeScope();
            manual_seed(5);
            using var depthwise = new DepthwiseConv2d(channels, kernel, stride);
            using var reference = nn.Conv2d(channels, channels, kernel, stride: stride, padding: (kernel - 1) / 2, groups: channels, bias: false);
            using (no_grad()) reference.weight!.copy_(depthwise.Weight);
            var input = MemoryLayout.Apply(randn(3, channels, size, size), layout);
            Assert.Equal(correlation, depthwise.UsesCorrelationGradient(input));

            var x1 = input.detach().requires_grad_(true);
            var x2 = input.detach().requires_grad_(true);
            var y1 = depthwise.call(x1);
            var y2 = reference.call(x2);
            var upstream = randn_like(y2);
            y1.backward([upstream]);
            y2.backward([upstream]);

            Assert.Equal(y2.shape, y1.shape);
            Assert.True(y1.allclose(y2, rtol: 0, atol: 0), $"{layout}: forward differs");
            Assert.True(x1.grad!.allclose(x2.grad!, rtol: 1e-5, atol: 1e-6), $"{layout}: input gradient differs");
            Assert.True(depthwise.Weight.grad!.allclose(reference.weight.grad!, rtol: 1e-4, atol: 1e-5),
                $"{layout}: weight gradient differs by {(depthwise.Weight.grad! - reference.weight.grad!).abs().max().item<float>()}");
        }
    }

    [Fact]
    public void Takes_libtorchs_gradient_when_the_weight_is_frozen_or_grad_is_off()
    {
        using var scope = NewDisposeScope();
        using var depthwise = new DepthwiseConv2d(8, 5, 1);
        var x = randn(2, 8, 2, 2);
        Assert.True(depthwise.UsesCorrelationGradient(x));
        using (no_grad()) Assert.False(depthwise.UsesCorrelationGradient(x));
        depthwise.Weight.requires_grad = false;
        Assert.False(depthwise.UsesCorrelationGradient(x));
    }

    [Fact]
    public void Keeps_the_state_dict_key_of_the_Conv2d_it_replaces()
    {
        using var model = ModelFactory.Create(WeightImportTests.Spec("efficientnet_b0"), numClasses: 3);
        var keys = model.state_dict().Keys.ToList();
        // torchvision: features.1.0.block.0.0.weight is the first block's depthwise 3x3 convolution.
        Assert.Contains(keys, k => k.EndsWith("features.1.0.block.0.0.weight", StringComparison.Ordinal));
        Assert.Contains(model.modules(), m => m is DepthwiseConv2d);
    }
}
