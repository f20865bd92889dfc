using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Modeling;

// What the model asks of a backbone, whichever family it is (EfficientNet, ResNet, the CNTK ResNet).

/// <summary>A backbone that maps images to a feature map [N, FeatureChannels, H', W'].</summary>
public interface IFeatureExtractor
{
    long FeatureChannels { get; }
    Tensor ForwardFeatures(Tensor x);
}

/// <summary>A backbone that can also return the feature map of the stage before its last one (for concat_last_two).</summary>
public interface IMultiStageExtractor
{
    long PenultimateChannels { get; }

    /// <summary>The feature maps of the last two stages (the last one equals ForwardFeatures' output).</summary>
    (Tensor Previous, Tensor Last) ForwardLastTwo(Tensor x);

    /// <summary>Runs <paramref name="stages"/> in order and returns the outputs of the last two.</summary>
    internal static (Tensor Previous, Tensor Last) RunLastTwo(IReadOnlyList<nn.Module<Tensor, Tensor>> stages, Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = x;
        for (int i = 0; i < stages.Count - 1; i++) h = stages[i].call(h);
        var last = stages[^1].call(h);
        return (h.MoveToOuterDisposeScope(), last.MoveToOuterDisposeScope());
    }
}

/// <summary>A backbone whose parameters belong to numbered stages: 0 is the stem, higher numbers are deeper.</summary>
public interface IStagedBackbone
{
    /// <summary>The stage of a parameter given its name inside the backbone (e.g. "features.3.0.block.0.0.weight" -> 3).</summary>
    int StageOf(string parameterName);
}
