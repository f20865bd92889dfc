using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HappyWhale.Modeling;

/// <summary>
/// A depthwise convolution (one k x k filter per channel, no bias): the same parameter, state-dict key and
/// forward as <c>Conv2d(c, c, k, stride, (k - 1) / 2, groups: c, bias: false)</c>, with a faster weight
/// gradient on the CPU where libtorch's is slow.
/// </summary>
/// <remarks>
/// oneDNN (libtorch's CPU convolutions) has a direct depthwise weight-gradient kernel for 3x3 filters on maps at
/// least as large as the filter; for 5x5 filters, or maps smaller than the filter, it falls back to im2col and one
/// tiny matrix product per image and channel (ONEDNN_VERBOSE: x64:gemm:jit, backward_weights). On EfficientNet-B0's
/// last stages at 64 px (2x2 and 4x4 maps, 480-1152 channels) that took 7-20 ms per layer and step, 80 of the step's
/// 180 ms of backward. Here the weight gradient is computed as what it is: for each channel, the correlation of the
/// padded input with the output gradient, summed over the batch, i.e. one depthwise convolution over all N x C
/// (image, channel) pairs, which oneDNN runs with its fast kernel: 1-4 ms for those layers, input gradient included
/// (`depthwise-gradient` in the benchmarks prints the table). Elsewhere libtorch's own gradient runs, and on CUDA
/// always (cuDNN's depthwise kernels were not measured here). Both give the same numbers up to float rounding
/// (relative difference ~2e-7; DepthwiseConv2dTests).
/// </remarks>
public sealed class DepthwiseConv2d : Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Geometry _geometry;

    public DepthwiseConv2d(long channels, long kernel, long stride) : base(nameof(DepthwiseConv2d))
    {
        _geometry = new Geometry(channels, kernel, stride, (kernel - 1) / 2);
        weight = new Parameter(empty(channels, 1, kernel, kernel));
        // What Conv2d's constructor draws, so that a model's random initialisation stays what it was with Conv2d.
        init.kaiming_uniform_(weight, a: Math.Sqrt(5));
        RegisterComponents();
    }

    public Parameter Weight => weight;

    public override Tensor forward(Tensor x)
    {
        if (UsesCorrelationGradient(x))
            return DepthwiseCorrelationGradient.apply(x, weight, _geometry);
        return _geometry.Convolve(x, weight);
    }

    /// <summary>True when this input's backward takes the correlation weight gradient (see the remarks).</summary>
    /// <remarks>
    /// Measured per layer shape (`depthwise-gradient`): 3-8x faster on maps up to 4 x 4, ~20% faster for unstrided
    /// 8 x 8 and 16 x 16 maps, and level or slower for strided maps above 4 x 4 and for 32 x 32 maps, which keep libtorch's.
    /// </remarks>
    public bool UsesCorrelationGradient(Tensor x)
    {
        if (x.device_type != DeviceType.CPU || !weight.requires_grad || !is_grad_enabled()) return false;
        long h = x.shape[2], w = x.shape[3], k = _geometry.Kernel;
        bool noDirectKernel = k > 3 || h < k || w < k;
        return noDirectKernel && (h * w <= 16 || (_geometry.Stride == 1 && h * w <= 256));
    }

    internal sealed record Geometry(long Channels, long Kernel, long Stride, long Padding)
    {
        /// <summary>The forward: libtorch's grouped convolution, one filter per channel.</summary>
        public Tensor Convolve(Tensor x, Tensor weight) =>
            functional.conv2d(x, weight, null, [Stride, Stride], [Padding, Padding], null, Channels);
    }
}

/// <summary>The autograd function behind <see cref="DepthwiseConv2d"/>'s correlation gradient.</summary>
internal sealed class DepthwiseCorrelationGradient : autograd.SingleTensorFunction<DepthwiseCorrelationGradient>
{
    public override string Name => nameof(DepthwiseCorrelationGradient);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var (x, weight, g) = ((Tensor)vars[0], (Tensor)vars[1], (DepthwiseConv2d.Geometry)vars[2]);
        ctx.save_for_backward([x, weight]);
        ctx.save_data("geometry", g);
        return g.Convolve(x, weight);
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        var g = (DepthwiseConv2d.Geometry)ctx.get_data("geometry");
        var saved = ctx.get_saved_variables();
        using var x = saved[0];
        using var weight = saved[1];
        using var scope = NewDisposeScope();
        long n = x.shape[0], c = g.Channels, h = x.shape[2], w = x.shape[3];
        long outH = gradOutput.shape[2], outW = gradOutput.shape[3];

        // The input gradient is libtorch's own (a transposed depthwise convolution, oneDNN's fast kernel).
        long[] outputPadding = [h - ((outH - 1) * g.Stride - 2 * g.Padding + g.Kernel), w - ((outW - 1) * g.Stride - 2 * g.Padding + g.Kernel)];
        var inputGradient = functional.conv_transpose2d(gradOutput, weight, null, [g.Stride, g.Stride], [g.Padding, g.Padding], outputPadding, null, c);

        // weight_grad[c, i, j] = sum over images and output positions of x_padded[n, c, s*y + i, s*x + j] * grad[n, c, y, x]:
        // a depthwise convolution of the padded input (N x C channels, batch 1) with the output gradient as filters,
        // dilated by the stride. Where the padding is at least as wide as those filters (a 2x2 gradient on a 2x2 map)
        // oneDNN's fast kernel refuses it, so the input is padded by hand there. Inputs are made contiguous first: with
        // a batch of one and N x C channels, libtorch 2.10 computed a wrong correlation from the channels-last view.
        bool padByHand = g.Padding >= Math.Min(outH, outW);
        var input = padByHand
            ? functional.pad(x, [g.Padding, g.Padding, g.Padding, g.Padding]).reshape(1, n * c, h + 2 * g.Padding, w + 2 * g.Padding).contiguous()
            : x.reshape(1, n * c, h, w).contiguous();
        long padding = padByHand ? 0 : g.Padding;
        var filters = gradOutput.reshape(n * c, 1, outH, outW).contiguous();
        var correlation = functional.conv2d(input, filters, null, [1, 1], [padding, padding], [g.Stride, g.Stride], n * c);
        var weightGradient = correlation.narrow(2, 0, g.Kernel).narrow(3, 0, g.Kernel).reshape(n, c, g.Kernel, g.Kernel).sum(dim: 0L).unsqueeze(1);
        return [inputGradient.MoveToOuterDisposeScope(), weightGradient.MoveToOuterDisposeScope(), null!];
    }
}
