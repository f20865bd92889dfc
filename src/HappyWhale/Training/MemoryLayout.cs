using HappyWhale.Experiments;
using static TorchSharp.torch;

namespace HappyWhale.Training;

/// <summary>
/// train.memory_format for a batch [N, C, H, W]. TorchSharp 0.107 has no memory_format argument, but a channels-last
/// tensor is only a matter of strides: NHWC storage viewed as NCHW. Given such an input, libtorch's oneDNN and cuDNN
/// convolutions run in NHWC and hand NHWC activations on, so the whole network follows the batch, as
/// <c>x.contiguous(memory_format=torch.channels_last)</c> makes it in PyTorch.
/// </summary>
public static class MemoryLayout
{
    public static Tensor Apply(Tensor batch, MemoryFormat format)
    {
        if (format == MemoryFormat.Contiguous || batch.dim() != 4) return batch;
        using var nhwc = batch.permute(0, 2, 3, 1);
        using var packed = nhwc.contiguous();
        return packed.permute(0, 3, 1, 2);
    }

    /// <summary>True when <paramref name="batch"/> [N, C, H, W] is stored channels-last (C the innermost dimension).</summary>
    public static bool IsChannelsLast(Tensor batch) =>
        batch.dim() == 4 && batch.stride(1) == 1 && batch.stride(3) == batch.shape[1] && batch.stride(2) == batch.shape[1] * batch.shape[3];
}
