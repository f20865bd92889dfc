using System.Text.Json.Nodes;
using HappyWhale.Data;
using HappyWhale.Experiments;

namespace HappyWhale.Pipeline;

/// <summary>synth: generator parameters -> a folder in the Kaggle layout (with test labels).</summary>
public static class SynthStage
{
    /// <summary>Bump when the generator draws different images for the same parameters.</summary>
    public const int Version = 4;

    /// <summary>The generator's keys, at the top of the key document.</summary>
    public static readonly StageDeclaration Declaration = new(StageNames.Synth, Version, [new KeyGroup(null, "synth")]);

    public static StageRequest Request(ResolvedExperiment experiment) => Declaration.Request(experiment);

    public static JsonObject Compute(SynthSpec spec, string folder, IProgress<int>? progress)
    {
        var s = SyntheticGenerator.Generate(spec, folder, progress);
        return new JsonObject
        {
            ["train_images"] = s.TrainImages, ["test_images"] = s.TestImages, ["individuals"] = s.Individuals,
            ["new_individuals"] = s.NewIndividuals, ["new_individual_test_images"] = s.NewIndividualTestImages, ["typo_rows"] = s.TypoRows,
        };
    }
}
