using System.Text.Json.Nodes;
using HappyWhale.Data;
using HappyWhale.Experiments;

namespace HappyWhale.Pipeline;

/// <summary>synth: generator parameters -> a folder in the Kaggle layout (with test labels).</summary>
public static class SynthStage
{
    /// <summary>Bump when the generator draws different images for the same parameters.</summary>
    public const int Version = 4;

    public static StageRequest Request(ResolvedExperiment experiment) =>
        new(StageNames.Synth, Version, experiment.Section("synth")!, new Dictionary<string, string>(), new Dictionary<string, string>());

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
