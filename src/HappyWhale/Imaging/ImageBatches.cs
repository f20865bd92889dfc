using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Imaging;

/// <summary>Reads prepared images by row as a float batch (N,3,H,W) scaled to [0,1].</summary>
public interface IImageBatches
{
    int Count { get; }
    int ImageSize { get; }
    Tensor ReadBatch(IReadOnlyList<int> rows);
}

/// <summary>A model (or backbone) whose weights expect another input than torchvision's ImageNet mean/std.</summary>
public interface IInputNormalization
{
    /// <summary>The model's input made from a batch (N,3,H,W) of RGB scaled to [0,1].</summary>
    Tensor NormalizeInput(Tensor batch01);
}

/// <summary>How the trainer and the embedding extractor turn a [0,1] batch into a model's input.</summary>
public static class InputNormalization
{
    /// <summary>The model's own normalisation when it declares one, else torchvision's ImageNet statistics.</summary>
    public static Tensor Apply(nn.Module model, Tensor batch01) =>
        model is IInputNormalization own ? own.NormalizeInput(batch01) : ImageNetNormalization.Apply(batch01);
}

/// <summary>1 - x for a batch in [0,1]: white becomes 0, so dark strokes on light paper become strokes near 1 on 0.</summary>
public static class InvertedImage
{
    // The 1 is a cached Scalar: this runs every step (README, "Notes for developers").
    public static Tensor Apply(Tensor batch01) => batch01.neg().add_(Scalars.Of(1));
}

/// <summary>ImageNet channel statistics: what torchvision's pretrained weights expect as input.</summary>
public static class ImageNetNormalization
{
    static readonly float[] Mean = [0.485f, 0.456f, 0.406f];
    static readonly float[] Std = [0.229f, 0.224f, 0.225f];

    public static Tensor Apply(Tensor batch01)
    {
        var mean = tensor(Mean, new long[] { 1, 3, 1, 1 }).to(batch01.device);
        var std = tensor(Std, new long[] { 1, 3, 1, 1 }).to(batch01.device);
        return (batch01 - mean) / std;
    }
}
