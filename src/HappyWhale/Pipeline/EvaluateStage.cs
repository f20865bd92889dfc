using System.Text.Json;
using System.Text.Json.Nodes;
using HappyWhale.Data;
using HappyWhale.Evaluation;
using HappyWhale.Experiments;
using HappyWhale.Imaging;
using HappyWhale.Modeling;
using TorchSharp;
using static TorchSharp.torch;
using HappyWhale.Training;

namespace HappyWhale.Pipeline;

/// <summary>A trained model the evaluate stage embeds images with: whose it is, its model section and its train entry.</summary>
public sealed record EvaluationModel(string Experiment, ModelSpec Model, string TrainKey, string TrainFolder)
{
    /// <summary>train.final_fit: the model fit on every training image, which makes the submission; null = the one above does.</summary>
    public TrainEntry? Final { get; init; }

    /// <summary>The model the submission and predict embed with.</summary>
    public EvaluationModel ForSubmission => Final is { } f ? this with { TrainKey = f.Key, TrainFolder = f.Folder, Final = null } : this;
}

/// <summary>A train stage entry: its key and folder.</summary>
public sealed record TrainEntry(string Key, string Folder);

/// <summary>
/// evaluate: train key(s) + prepare key + evaluate section -> metrics.json and submission.csv.
/// Validation: validation-fold queries against the training split's gallery (held-out
/// individuals must be answered new_individual). Test: test photos against every training
/// image, scored against test_labels.csv when the source has it, next to the sample submission.
/// With several models (evaluate.models) their normalised embeddings are averaged. With
/// evaluate.tta_hflip the metrics without TTA are reported too (`*_no_tta`), and MAP@5 is broken
/// down by species (`val_map5_by_species/&lt;species&gt;`, `test_map5_by_species/&lt;species&gt;`).
/// </summary>
public static class EvaluateStage
{
    // 3: species names made MLflow-safe in metric keys; threshold grid reaches 1.01 ("always new_individual first").
    public const int Version = 3;
    public const string MetricsFile = "metrics.json", SubmissionFile = "submission.csv", TestTruthFile = "test_truth.csv",
        ThresholdPlotFile = "threshold.png";
    /// <summary>The evaluate.models entry naming the experiment being evaluated.</summary>
    public const string Self = "self";

    /// <summary>The model list evaluate.models asks for: [] means this experiment's own model.</summary>
    public static IReadOnlyList<string> ModelNames(ExperimentSpec spec) => spec.Evaluate.Models.Count == 0 ? [Self] : spec.Evaluate.Models;

    /// <summary>
    /// Stops a run before training when its prepared set could not be scored: the sample submission, the
    /// floor every evaluation reports, names the four training individuals with most images.
    /// </summary>
    public static void RequireScorable(string preparedFolder)
    {
        int individuals = PreparedIndex.Read(Path.Combine(preparedFolder, PreparedIndex.FileName))
            .Where(r => r.Subset == "train" && r.IndividualId != NewIndividual.Id).Select(r => r.IndividualId).Distinct().Count();
        if (individuals < MapAt5.Cutoff - 1)
            throw new UserException($"the data has {individuals} individual(s) with training images; evaluate needs at least {MapAt5.Cutoff - 1} " +
                                    "(the sample submission names four). Add individuals, or stop before evaluate (happywhale train).");
    }

    /// <summary>
    /// The evaluate section and the split. blend_logits was added after experiments were cached: absent while off, so their
    /// evaluate keys stay as they were. The models are inputs (their train keys), so their model sections are too.
    /// </summary>
    public static readonly StageDeclaration Declaration = new(StageNames.Evaluate, Version,
        [new KeyGroup("evaluate", "evaluate") { AbsentWhen = new Dictionary<string, JsonNode> { ["blend_logits"] = 0 } }, TrainStage.Split])
    {
        RuntimeKeys = ["train.device"],
    };

    public static StageRequest Request(ResolvedExperiment experiment, IReadOnlyList<EvaluationModel> models, string prepareKey)
    {
        var inputs = new Dictionary<string, string> { ["prepare"] = prepareKey };
        // One own model keeps the input name it always had; an ensemble names every member's train entry.
        if (models is [{ Experiment: Self } own])
        {
            inputs["train"] = own.TrainKey;
            if (own.Final is { } final) inputs[FinalFit.Key] = final.Key;
        }
        else
            for (int i = 0; i < models.Count; i++)
            {
                inputs[$"train.{i}.{models[i].Experiment}"] = models[i].TrainKey;
                if (models[i].Final is { } final) inputs[$"{FinalFit.Key}.{i}.{models[i].Experiment}"] = final.Key;
            }
        return Declaration.Request(experiment, inputs: inputs);
    }

    public static JsonObject Compute(ExperimentSpec spec, PreparedSet images, IReadOnlyList<EvaluationModel> models, IImageSource source, string folder, Action<int>? progress)
    {
        // The gallery: every training image but those of held-out species (data.holdout_species), whose queries are new individuals.
        var trainRows = images.Rows.Where(r => r.Subset == "train" && !SpeciesHoldout.IsHeldOut(r.Species, spec.Data)).Select(r => r.Row).ToList();
        var testRows = images.Rows.Where(r => r.Subset == "test").Select(r => r.Row).ToList();
        var embedded = trainRows.Concat(testRows).ToList();

        var (main, noTta) = Embed(spec, images, models, embedded, progress);
        using var _ = main;
        using var __ = noTta;
        // train.final_fit: validation (and the threshold) stays with the fold's models; the submission is embedded by the final ones.
        bool final = models.Any(m => m.Final is not null);
        var (finalMain, finalNoTta) = final ? Embed(spec, images, models.Select(m => m.ForSubmission).ToList(), embedded, progress) : (main, noTta);
        using var ___ = final ? finalMain : null;
        using var ____ = final ? finalNoTta : null;
        using var head = spec.Evaluate.BlendLogits > 0 ? ClassHeads.Load(models[0].Model, models[0].TrainFolder) : null;
        using var finalHead = spec.Evaluate.BlendLogits > 0 && final ? ClassHeads.Load(models[0].Model, models[0].ForSubmission.TrainFolder) : null;
        var inputs = Inputs(spec, images, trainRows, testRows, source, folder);
        var metrics = Score(spec, inputs, new(main, finalMain, head, finalHead ?? head), source, folder, writeFiles: true);
        if (noTta is not null)
        {
            var without = Score(spec, inputs, new(noTta, finalNoTta!, head, finalHead ?? head), source, folder, writeFiles: false);
            foreach (var (key, value) in without)
                if (key is "val_map5" or "test_map5" or "val_map5_configured_threshold" or "new_individual_threshold")
                    metrics[key + "_no_tta"] = value?.DeepClone();
        }
        metrics["models"] = models.Count;
        if (spec.Evaluate.Episodes.Episodes > 0) EpisodeEvaluation.AddTo(metrics, spec, images, models, source, folder);
        File.WriteAllText(Path.Combine(folder, MetricsFile), metrics.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return metrics;
    }

    /// <summary>Embeddings of every row by every model, averaged; with TTA also the plain ones (null without TTA).</summary>
    internal static (Tensor Main, Tensor? NoTta) Embed(ExperimentSpec spec, PreparedSet images, IReadOnlyList<EvaluationModel> models,
        IReadOnlyList<int> rows, Action<int>? progress)
    {
        bool tta = spec.Evaluate.TtaHflip;
        var device = ComputeDevice.Resolve(spec.Train.Device);
        var views = EmbeddingViews.Of(spec.Evaluate);
        var mains = new List<Tensor>();
        var plains = new List<Tensor>();
        try
        {
            foreach (var m in models)
            {
                var classes = TrainStage.ReadClasses(m.TrainFolder);
                using var model = ModelFactory.Create(m.Model, classes.Count);
                model.LoadCheckpoint(Path.Combine(m.TrainFolder, TrainStage.ModelFile));
                model.to(device);
                // Progress counts images of the whole ensemble as a share of one pass.
                Action<int>? step = progress is null ? null : n => progress(Math.Max(1, n / models.Count));
                if (tta)
                {
                    var (plain, flipped) = EmbeddingExtractor.ExtractWithAndWithoutTta(model, images, rows, spec.Evaluate.BatchSize, step, views);
                    plains.Add(plain);
                    mains.Add(flipped);
                }
                else mains.Add(EmbeddingExtractor.Extract(model, images, rows, spec.Evaluate.BatchSize, progress: step, views: views));
            }
            try
            {
                return (EmbeddingEnsemble.Average(mains), tta ? EmbeddingEnsemble.Average(plains) : null);
            }
            catch (ArgumentException e)
            {
                throw new UserException($"evaluate.models [{string.Join(", ", models.Select(m => m.Experiment))}]: {e.Message}", e);
            }
        }
        finally
        {
            foreach (var t in mains.Concat(plains)) t.Dispose();
        }
    }

    /// <summary>What scoring needs besides the embeddings: built once for the TTA and the plain pass.</summary>
    sealed record ScoringInputs(RowSplit Split, Dictionary<int, int> PositionOf, IReadOnlyList<string> Filler,
        IReadOnlyList<string> ValGalleryIds, IReadOnlyList<string> ValQueryIds, IReadOnlyList<string> ValSpecies,
        IReadOnlyList<int> TrainRows, IReadOnlyList<int> TestRows, IReadOnlyList<string> TestGalleryIds, IReadOnlyList<string> TestImages,
        TestTruth? Truth);

    /// <summary>Test labels as the competition scores them, written to test_truth.csv.</summary>
    sealed record TestTruth(string Path, IReadOnlyList<string> Labels, IReadOnlyList<string> Species);

    static ScoringInputs Inputs(ExperimentSpec spec, PreparedSet images, IReadOnlyList<int> trainRows, IReadOnlyList<int> testRows,
        IImageSource source, string folder)
    {
        var split = RowSplit.Build(images.Rows, spec.Data);
        var idOfRow = images.Rows.ToDictionary(r => r.Row, r => r.IndividualId);
        var positionOf = trainRows.Concat(testRows).Select((row, i) => (row, i)).ToDictionary(p => p.row, p => p.i);
        var allIds = trainRows.Select(r => idOfRow[r]).ToList();
        var filler = SampleSubmission.FixedPredictions(allIds).Where(id => id != NewIndividual.Id).ToList();
        var testImages = testRows.Select(r => images.Rows[r].Image).ToList();
        TestTruth? truth = null;
        if (source.ReadTestLabels() is { } labels)
        {
            var allKnown = allIds.ToHashSet(StringComparer.Ordinal);
            var truthOf = labels.ToDictionary(t => t.Image, StringComparer.Ordinal);
            var truthLabels = testImages.Select(i => allKnown.Contains(truthOf[i].IndividualId) ? truthOf[i].IndividualId : NewIndividual.Id).ToList();
            string truthPath = Path.Combine(folder, TestTruthFile);
            File.WriteAllLines(truthPath, new[] { "image,individual_id" }.Concat(testImages.Select((image, i) => $"{image},{truthLabels[i]}")));
            truth = new TestTruth(truthPath, truthLabels, testImages.Select(i => truthOf[i].Species).ToList());
        }
        return new ScoringInputs(split, positionOf, filler,
            split.TrainRows.Select(r => idOfRow[r]).ToList(), split.ValidationRows.Select(r => idOfRow[r]).ToList(),
            split.ValidationRows.Select(r => images.Rows[r].Species).ToList(),
            trainRows, testRows, allIds, testImages, truth);
    }

    /// <summary>
    /// Embeddings of the train rows followed by the test rows: for validation (the fold's models) and for the submission
    /// (the same, or the final fit's), with the heads that score them when evaluate.blend_logits is on.
    /// </summary>
    sealed record ScoringEmbeddings(Tensor Validation, Tensor Test, ClassHead? ValidationHead, ClassHead? TestHead);

    /// <param name="writeFiles">Write the submission and threshold plot (only for the configured embeddings).</param>
    static JsonObject Score(ExperimentSpec spec, ScoringInputs inputs, ScoringEmbeddings embeddings, IImageSource source, string folder, bool writeFiles)
    {
        double blend = spec.Evaluate.BlendLogits;
        var metrics = new JsonObject();
        var bySpecies = new JsonObject();
        double threshold = spec.Evaluate.NewIndividualThreshold;
        var split = inputs.Split;

        // Validation fold: gallery = training split only.
        using (var gallery = RetrievalEvaluator.Rows(embeddings.Validation, split.TrainRows.Select(r => inputs.PositionOf[r]).ToList()))
        using (var queries = RetrievalEvaluator.Rows(embeddings.Validation, split.ValidationRows.Select(r => inputs.PositionOf[r]).ToList()))
        {
            var val = ValidationScorer.Score(gallery, inputs.ValGalleryIds, queries, inputs.ValQueryIds, spec.Evaluate, inputs.Filler,
                LogitBlend.For(embeddings.ValidationHead, queries, blend, spec.Evaluate.KnnK));
            metrics["val_map5_configured_threshold"] = val.Map5AtConfiguredThreshold;
            threshold = val.Threshold;
            if (writeFiles && val.Curve is { } curve) ThresholdPlot.Write(Path.Combine(folder, ThresholdPlotFile), curve, spec.Evaluate.NewIndividualThreshold);
            metrics["val_map5"] = val.Map5;
            metrics["val_queries"] = val.Labels.Count;
            metrics["val_new_individual_share"] = val.Labels.Count(l => l == NewIndividual.Id) / (double)Math.Max(1, val.Labels.Count);
            if (val.Labels.Count > 0)
                AddBySpecies(bySpecies, "val_map5", val.Predictions, val.Labels, inputs.ValSpecies);
        }

        // Test: gallery = every training image.
        using (var gallery = RetrievalEvaluator.Rows(embeddings.Test, inputs.TrainRows.Select(r => inputs.PositionOf[r]).ToList()))
        using (var queries = RetrievalEvaluator.Rows(embeddings.Test, inputs.TestRows.Select(r => inputs.PositionOf[r]).ToList()))
        {
            var test = RetrievalEvaluator.Rank(RetrievalEvaluator.Search(queries, gallery, spec.Evaluate.KnnK), inputs.TestGalleryIds, threshold, null, inputs.Filler,
                LogitBlend.For(embeddings.TestHead, queries, blend, spec.Evaluate.KnnK));
            var testImages = inputs.TestImages;
            var submission = testImages.Select((image, i) => new SubmissionRow(image, test.Predictions[i].Ids.Take(MapAt5.Cutoff).ToList())).ToList();
            string submissionPath = Path.Combine(folder, writeFiles ? SubmissionFile : "submission.no_tta.tmp.csv");
            SubmissionWriter.Write(submissionPath, submission, testImages);
            metrics["test_images"] = testImages.Count;

            // A folder source with data.query_share 0 has no queries (omniglot_oneshot scores episodes only): no test MAP@5.
            if (inputs.Truth is { } truth && testImages.Count > 0)
            {
                metrics["test_map5"] = SubmissionScorer.Score(submissionPath, truth.Path);
                AddBySpecies(bySpecies, "test_map5", test.Predictions, truth.Labels, truth.Species);
                if (writeFiles && source.SampleSubmissionPath is { } sample) metrics["sample_submission_map5"] = SampleSubmission.Score(sample, truth.Path);
            }
            if (!writeFiles) File.Delete(submissionPath);
        }
        metrics["new_individual_threshold"] = threshold;
        foreach (var (key, value) in bySpecies) metrics[key] = value?.DeepClone();
        return metrics;
    }

    static void AddBySpecies(JsonObject into, string prefix, IReadOnlyList<RankedPrediction> predictions, IReadOnlyList<string> labels, IReadOnlyList<string> species)
    {
        foreach (var (name, score) in SpeciesBreakdown.MapAt5BySpecies(predictions.Select(p => p.Ids).ToList(), labels, species))
            // Not "val_map5/<species>": MLflow's file store cannot hold a metric and a folder of the same name.
            into[$"{prefix}_by_species/{name}"] = score;
    }

    public static IReadOnlyDictionary<string, double> ReadMetrics(string folder)
    {
        var node = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, MetricsFile)))!.AsObject();
        return node.Where(p => p.Value is JsonValue v && v.TryGetValue<double>(out _))
            .ToDictionary(p => p.Key, p => p.Value!.GetValue<double>());
    }
}
