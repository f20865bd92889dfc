using HappyWhale.Evaluation;
using HappyWhale.Experiments;
using HappyWhale.Modeling;

namespace HappyWhale.Pipeline;

/// <summary>The class centres of a trained model's ArcFace head, for logit blending (evaluate.blend_logits).</summary>
public static class ClassHeads
{
    /// <summary>The head of the model in a train entry.</summary>
    public static ClassHead Load(ModelSpec spec, string trainFolder)
    {
        var classes = TrainStage.ReadClasses(trainFolder);
        using var model = ModelFactory.Create(spec, classes.Count);
        model.LoadCheckpoint(Path.Combine(trainFolder, TrainStage.ModelFile));
        return new ClassHead(model.Head.Weight, model.Head.SubCenters, model.Head.S, classes);
    }
}
