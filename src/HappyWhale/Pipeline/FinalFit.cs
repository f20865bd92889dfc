using System.Text.Json.Nodes;
using HappyWhale.Experiments;
using HappyWhale.Training;

namespace HappyWhale.Pipeline;

/// <summary>
/// train.final_fit: once the fold's run has chosen the new_individual threshold and the number of epochs,
/// every phase is trained once more from the start on all training images (no validation fold), and that
/// model embeds the images for the submission and for predict. Its entries live with the other train
/// entries, keyed like the fold's phases plus final_fit, the chosen epochs and the fold run they came from.
/// </summary>
public static class FinalFit
{
    public const string Key = "final_fit";

    /// <summary>
    /// Epochs of the final fit's last phase: the epoch count at which the fold run's validation MAP@5 (per-epoch
    /// curve of its last phase) was best, later epochs winning ties; the configured count without a curve.
    /// </summary>
    public static int ChosenEpochs(IReadOnlyList<EpochStats> lastPhase, int configured)
    {
        int best = -1;
        double bestScore = double.NegativeInfinity;
        for (int i = 0; i < lastPhase.Count; i++)
            if (lastPhase[i].ValidationMap5 is { } v && v >= bestScore) { best = i; bestScore = v; }
        return best < 0 ? configured : best + 1;
    }

    /// <summary>The spec the final fit trains with: the last phase shortened to <paramref name="lastPhaseEpochs"/>.</summary>
    public static ExperimentSpec Spec(ExperimentSpec spec, int lastPhaseEpochs)
    {
        var phases = spec.Train.Phases.ToList();
        phases[^1] = phases[^1] with { Epochs = lastPhaseEpochs };
        return spec with { Train = spec.Train with { Phases = phases } };
    }

    /// <summary>
    /// One phase of the final fit: the fold phase's request (chained on the final fit's previous phase) with
    /// final_fit, the phase's epochs, and the fold run whose curve chose them (and its pseudo-labels, if any).
    /// </summary>
    public static StageRequest Request(ResolvedExperiment experiment, int phaseIndex, int imageSize, int epochs, string prepareKey,
        string? previousFinalKey, string foldRunKey, string? pseudoLabelsKey, string? repoRoot, string? imageNetKey = null)
    {
        var fold = TrainStage.Request(experiment, phaseIndex, imageSize, prepareKey, previousFinalKey, repoRoot, imageNetKey);
        var parameters = fold.Parameters.DeepClone().AsObject();
        parameters[Key] = true;
        parameters["phase"]!["epochs"] = epochs;
        var inputs = new Dictionary<string, string>(fold.Inputs) { ["fold_run"] = foldRunKey };
        if (pseudoLabelsKey is not null) inputs[PseudoLabelStage.InputName] = pseudoLabelsKey;
        return fold with { Parameters = parameters, Inputs = inputs };
    }
}
