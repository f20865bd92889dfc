using System.Text.Json;
using System.Text.Json.Nodes;
using HappyWhale.Data;
using HappyWhale.Evaluation;
using HappyWhale.Experiments;
using HappyWhale.Imaging;
using HappyWhale.Modeling;
using HappyWhale.Reporting;

namespace HappyWhale.Pipeline;

/// <summary>
/// evaluate: train key + prepare key + evaluate section -> metrics.json and submission.csv.
/// Validation: validation-fold queries against the training split's gallery (held-out
/// individuals must be answered new_individual). Test: test photos against every training
/// image, scored against test_labels.csv when the source has it, next to the sample submission.
/// </summary>
public static class EvaluateStage
{
    public const int Version = 1;
    public const string MetricsFile = "metrics.json", SubmissionFile = "submission.csv", TestTruthFile = "test_truth.csv",
        ThresholdPlotFile = "threshold.png";

    public static StageRequest Request(ResolvedExperiment experiment, string trainKey, string prepareKey) =>
        new(StageNames.Evaluate, Version,
            new JsonObject { ["evaluate"] = experiment.Section("evaluate")!.DeepClone(), ["split"] = TrainStage.SplitParameters(experiment) },
            new Dictionary<string, string> { ["train"] = trainKey, ["prepare"] = prepareKey },
            new Dictionary<string, string>());

    public static JsonObject Compute(ExperimentSpec spec, PreparedSet images, string trainFolder, IImageSource source, string folder, Action<int>? progress)
    {
        var classes = TrainStage.ReadClasses(trainFolder);
        using var model = ModelFactory.Create(spec.Model, classes.Count);
        model.LoadCheckpoint(Path.Combine(trainFolder, TrainStage.ModelFile));

        var split = RowSplit.Build(images.Rows, spec.Data);
        var trainRows = images.Rows.Where(r => r.Subset == "train").Select(r => r.Row).ToList();
        var testRows = images.Rows.Where(r => r.Subset == "test").Select(r => r.Row).ToList();
        var idOfRow = images.Rows.ToDictionary(r => r.Row, r => r.IndividualId);

        using var all = EmbeddingExtractor.Extract(model, images, trainRows.Concat(testRows).ToList(), spec.Evaluate.BatchSize, progress: progress);
        var positionOf = trainRows.Concat(testRows).Select((row, i) => (row, i)).ToDictionary(p => p.row, p => p.i);
        var filler = SampleSubmission.FixedPredictions(trainRows.Select(r => idOfRow[r])).Where(id => id != NewIndividual.Id).ToList();
        var metrics = new JsonObject();
        double threshold = spec.Evaluate.NewIndividualThreshold;

        // Validation fold: gallery = training split only.
        var galleryIds = split.TrainRows.Select(r => idOfRow[r]).ToList();
        var galleryKnown = galleryIds.ToHashSet(StringComparer.Ordinal);
        using (var gallery = RetrievalEvaluator.Rows(all, split.TrainRows.Select(r => positionOf[r]).ToList()))
        using (var queries = RetrievalEvaluator.Rows(all, split.ValidationRows.Select(r => positionOf[r]).ToList()))
        {
            var labels = RetrievalEvaluator.AsCompetitionLabels(split.ValidationRows.Select(r => idOfRow[r]), galleryKnown);
            var neighbours = RetrievalEvaluator.Search(queries, gallery, spec.Evaluate.KnnK);
            var configured = RetrievalEvaluator.Rank(neighbours, galleryIds, spec.Evaluate.NewIndividualThreshold, labels, filler);
            metrics["val_map5_configured_threshold"] = configured.Map5;
            if (spec.Evaluate.TuneThreshold && labels.Count > 0)
            {
                var curve = ThresholdTuning.Tune(neighbours.Similarities, neighbours.Indices, neighbours.K, galleryIds, labels,
                    ThresholdTuning.Grid(-0.2, 1.0, 121));
                threshold = curve.BestThreshold;
                ThresholdPlot.Write(Path.Combine(folder, ThresholdPlotFile), curve, spec.Evaluate.NewIndividualThreshold);
            }
            metrics["val_map5"] = RetrievalEvaluator.Rank(neighbours, galleryIds, threshold, labels, filler).Map5;
            metrics["val_queries"] = labels.Count;
            metrics["val_new_individual_share"] = labels.Count(l => l == NewIndividual.Id) / (double)Math.Max(1, labels.Count);
        }

        // Test: gallery = every training image.
        var allIds = trainRows.Select(r => idOfRow[r]).ToList();
        var allKnown = allIds.ToHashSet(StringComparer.Ordinal);
        using (var gallery = RetrievalEvaluator.Rows(all, trainRows.Select(r => positionOf[r]).ToList()))
        using (var queries = RetrievalEvaluator.Rows(all, testRows.Select(r => positionOf[r]).ToList()))
        {
            var test = RetrievalEvaluator.Rank(RetrievalEvaluator.Search(queries, gallery, spec.Evaluate.KnnK), allIds, threshold, null, filler);
            var testImages = testRows.Select(r => images.Rows[r].Image).ToList();
            var submission = testImages.Select((image, i) => new SubmissionRow(image, test.Predictions[i].Ids.Take(MapAt5.Cutoff).ToList())).ToList();
            string submissionPath = Path.Combine(folder, SubmissionFile);
            SubmissionWriter.Write(submissionPath, submission, testImages);
            metrics["test_images"] = testImages.Count;

            if (source.ReadTestLabels() is { } truth)
            {
                string truthPath = Path.Combine(folder, TestTruthFile);
                var truthIds = truth.ToDictionary(t => t.Image, t => t.IndividualId, StringComparer.Ordinal);
                File.WriteAllLines(truthPath, new[] { "image,individual_id" }
                    .Concat(testImages.Select(i => $"{i},{(allKnown.Contains(truthIds[i]) ? truthIds[i] : NewIndividual.Id)}")));
                metrics["test_map5"] = SubmissionScorer.Score(submissionPath, truthPath);
                if (source.SampleSubmissionPath is { } sample) metrics["sample_submission_map5"] = SampleSubmission.Score(sample, truthPath);
            }
        }
        metrics["new_individual_threshold"] = threshold;
        File.WriteAllText(Path.Combine(folder, MetricsFile), metrics.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return metrics;
    }

    public static IReadOnlyDictionary<string, double> ReadMetrics(string folder)
    {
        var node = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, MetricsFile)))!.AsObject();
        return node.Where(p => p.Value is JsonValue v && v.TryGetValue<double>(out _))
            .ToDictionary(p => p.Key, p => p.Value!.GetValue<double>());
    }
}
