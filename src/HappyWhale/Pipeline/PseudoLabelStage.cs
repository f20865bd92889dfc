using System.Text.Json.Nodes;
using HappyWhale.Data;
using HappyWhale.Evaluation;
using HappyWhale.Experiments;
using HappyWhale.Imaging;
using HappyWhale.Training;

namespace HappyWhale.Pipeline;

/// <summary>
/// pseudo_label (one per round): the previous round's model (round 1: the fold's) + prepare key + the
/// previous round's labels -> pseudo_labels.csv. The model embeds the images as evaluate does (TTA, logit
/// blending), is scored on the validation fold with the threshold tuned there (the round's validation
/// MAP@5), then ranks every test photo against the fold's training images; the photos whose best match
/// reaches pseudo_label.min_similarity, most similar first and at most pseudo_label.max_share of them,
/// take that individual's label. The round's training runs the experiment's phases again, from the start,
/// on the fold's training images plus these photos. Test labels, when the source has them, only measure
/// how many pseudo-labels are right; they never choose.
/// </summary>
public static class PseudoLabelStage
{
    public const int Version = 1;
    public const string LabelsFile = "pseudo_labels.csv";
    /// <summary>The input name under which a train entry records the pseudo-labels it trained with.</summary>
    public const string InputName = "pseudo_labels";

    /// <summary>
    /// The round's settings (rounds left out: the number of rounds does not change what a round computes, so rounds: 2
    /// reuses rounds: 1's first round), evaluate's scoring (models left out: a round labels with this experiment's own
    /// model) and the split. The model section is read through the model's train key, an input.
    /// </summary>
    public static readonly StageDeclaration Declaration = new(StageNames.PseudoLabel, Version,
    [
        new KeyGroup("pseudo_label", "pseudo_label") { Except = ["rounds"] },
        new KeyGroup("evaluate", "evaluate") { Except = ["models", "episodes"] },   // episodes: scored by evaluate only
        TrainStage.Split,
    ])
    {
        RuntimeKeys = ["train.device"],
        ReadsThroughInputs = ["model"],
    };

    /// <param name="modelKey">the train entry (last phase) of the model that labels.</param>
    /// <param name="previousKey">the previous round's pseudo_label entry; null in round 1.</param>
    public static StageRequest Request(ResolvedExperiment experiment, int round, string modelKey, string prepareKey, string? previousKey)
    {
        var inputs = new Dictionary<string, string> { ["prepare"] = prepareKey, ["model"] = modelKey };
        if (previousKey is not null) inputs["previous_round"] = previousKey;
        return Declaration.Request(experiment, new JsonObject { ["round"] = round }, inputs);
    }

    public static JsonObject Compute(ExperimentSpec spec, int round, PreparedSet images, string modelFolder, IReadOnlyList<Sample>? testTruth,
        string folder, Action<int>? progress)
    {
        var split = RowSplit.Build(images.Rows, spec.Data);
        var trainRows = images.Rows.Where(r => r.Subset == "train" && !SpeciesHoldout.IsHeldOut(r.Species, spec.Data)).Select(r => r.Row).ToList();
        var testRows = images.Rows.Where(r => r.Subset == "test").Select(r => r.Row).ToList();
        var idOfRow = images.Rows.ToDictionary(r => r.Row, r => r.IndividualId);
        using var head = spec.Evaluate.BlendLogits > 0 ? ClassHeads.Load(spec.Model, modelFolder) : null;

        // Embedded by evaluate's own code (same rows, order and batches), so round 1's validation MAP@5 is evaluate's.
        var embedded = trainRows.Concat(testRows).ToList();
        var position = embedded.Select((row, i) => (row, i)).ToDictionary(p => p.row, p => p.i);
        var (all, plain) = EvaluateStage.Embed(spec, images, [new EvaluationModel(EvaluateStage.Self, spec.Model, "", modelFolder)], embedded, progress);
        plain?.Dispose();
        using var _ = all;
        using var gallery = RetrievalEvaluator.Rows(all, split.TrainRows.Select(r => position[r]).ToList());
        using var validation = RetrievalEvaluator.Rows(all, split.ValidationRows.Select(r => position[r]).ToList());
        using var tests = RetrievalEvaluator.Rows(all, testRows.Select(r => position[r]).ToList());

        var galleryIds = split.TrainRows.Select(r => idOfRow[r]).ToList();
        var filler = SampleSubmission.FixedPredictions(trainRows.Select(r => idOfRow[r]).ToList()).Where(id => id != NewIndividual.Id).ToList();
        var val = ValidationScorer.Score(gallery, galleryIds, validation, split.ValidationRows.Select(r => idOfRow[r]).ToList(), spec.Evaluate, filler,
            LogitBlend.For(head, validation, spec.Evaluate.BlendLogits, spec.Evaluate.KnnK));

        var neighbours = RetrievalEvaluator.Search(tests, gallery, spec.Evaluate.KnnK);
        var ranked = RetrievalEvaluator.Aggregate(neighbours, galleryIds, LogitBlend.For(head, tests, spec.Evaluate.BlendLogits, spec.Evaluate.KnnK));
        var testImages = testRows.Select(r => images.Rows[r].Image).ToList();
        var settings = spec.PseudoLabel;
        var chosen = PseudoLabels.Choose(testImages, ranked, settings.MinSimilarity, settings.MaxShare);
        PseudoLabels.Write(Path.Combine(folder, LabelsFile), chosen);

        var summary = new JsonObject
        {
            ["round"] = round,
            ["val_map5"] = val.Map5,
            ["new_individual_threshold"] = val.Threshold,
            ["test_images"] = testImages.Count,
            ["candidates"] = PseudoLabels.Candidates(ranked, settings.MinSimilarity),
            ["added"] = chosen.Count,
        };
        if (testTruth is not null && chosen.Count > 0)
        {
            var truth = testTruth.ToDictionary(t => t.Image, t => t.IndividualId, StringComparer.Ordinal);
            summary["accuracy"] = chosen.Count(l => truth.GetValueOrDefault(l.Image) == l.IndividualId) / (double)chosen.Count;
        }
        return summary;
    }

    /// <summary><paramref name="split"/> plus the pseudo-labelled test photos of <paramref name="labelsFolder"/> (rows of this prepared set).</summary>
    public static RowSplit WithLabels(RowSplit split, PreparedSet images, string labelsFolder)
    {
        var rowOf = images.Rows.Where(r => r.Subset == "test").ToDictionary(r => r.Image, r => r.Row, StringComparer.Ordinal);
        var labels = PseudoLabels.Read(Path.Combine(labelsFolder, LabelsFile));
        return split.WithExtraRows(labels.Select(l => (rowOf[l.Image], l.IndividualId)).ToList());
    }
}
