using System.Text.Json;
using System.Text.Json.Nodes;
using HappyWhale.Data;
using HappyWhale.Evaluation;
using HappyWhale.Experiments;
using HappyWhale.Imaging;
using HappyWhale.Modeling;
using HappyWhale.Training;
using TorchSharp;

namespace HappyWhale.Pipeline;

/// <summary>
/// train: prepare key + model + split + training settings + phases 1..k -> the checkpoint after
/// phase k. Each phase is its own entry keyed on the one before it, so experiments that share
/// their first phases share those checkpoints.
/// </summary>
public static class TrainStage
{
    // 2: the per-epoch validation MAP@5 in history.json uses the threshold grid that reaches 1.01.
    public const int Version = 2;
    public const string ModelFile = "model.bin", ClassesFile = "classes.json", HistoryFile = "history.json";

    /// <summary>The data keys that decide which images train and which validate (RowSplit reads them), under "split".</summary>
    public static readonly KeyGroup Split = new("split", "data")
    {
        Only = ["clean_species", "species", "min_images_per_id", "max_individuals", "duplicate_singletons", "folds", "fold", "holdout_individuals", "seed",
            .. OptionalKeys.SplitKeys],
    };

    /// <summary>
    /// The model section, the split and the train section without: its phases (each phase's own settings are in the key
    /// as "phase"), the keys that change how fast training runs, not what it produces (threads; device and precision: at
    /// most the last bits), and final_fit, which the fold's phases do not read (the final fit's entries add it, see FinalFit).
    /// </summary>
    public static readonly StageDeclaration Declaration = new(StageNames.Train, Version,
    [
        new KeyGroup("model", "model"),
        Split,
        new KeyGroup("train", "train") { Except = ["phases", "threads", "device", "precision", FinalFit.Key] },
    ])
    {
        RuntimeKeys = ["train.threads", "train.device", "train.precision", "evaluate.batch_size"],
        ReadsAsValues = ["train.phases"],
        // The per-epoch validation curve in history.json scores as evaluate does. These keys were never in the train key:
        // adding them would retrain every cached model, and the checkpoint does not depend on them (only the curve does,
        // and the final fit, whose key holds the epochs it chose from that curve).
        ReadsUnkeyed = ["evaluate.knn_k", "evaluate.new_individual_threshold", "evaluate.tune_threshold"],
    };

    /// <summary>
    /// The train request of one phase. The first phase (no previous phase) that loads <c>model.pretrained</c>
    /// fingerprints the weights file's SHA-256 (the path is taken from <paramref name="repoRoot"/>), so new
    /// weights under the same name retrain; with <c>imagenet</c> it takes the pretrained stage's key instead.
    /// </summary>
    public static StageRequest Request(ResolvedExperiment experiment, int phaseIndex, int imageSize, string prepareKey, string? previousTrainKey,
        string? repoRoot = null, string? imageNetKey = null)
    {
        var phase = experiment.Section($"train.phases.{phaseIndex}")!.AsObject();
        phase["image_size"] = imageSize;
        var values = new JsonObject { ["phase_index"] = phaseIndex, ["phase"] = phase };
        var inputs = new Dictionary<string, string> { ["prepare"] = prepareKey };
        if (previousTrainKey is not null) inputs["previous_phase"] = previousTrainKey;
        var fingerprints = new Dictionary<string, string>();
        if (previousTrainKey is null && ImageNetPackage.IsRequestedBy(experiment.Spec.Model.Pretrained))
            inputs[StageNames.Pretrained] = imageNetKey ?? throw new ArgumentException("model.pretrained: imagenet needs the pretrained stage's key", nameof(imageNetKey));
        else if (previousTrainKey is null && !string.IsNullOrWhiteSpace(experiment.Spec.Model.Pretrained))
            fingerprints["pretrained"] = WeightImport.Sha256(RepoPath.Resolve(experiment.Spec.Model.Pretrained, repoRoot));
        return Declaration.Request(experiment, values, inputs, fingerprints);
    }

    /// <param name="imageNetFile">the pretrained stage's weights when model.pretrained is imagenet.</param>
    /// <param name="split">the rows to train on; null = the experiment's fold (the final fit and pseudo-label rounds pass theirs).</param>
    public static JsonObject Compute(ExperimentSpec spec, int phaseIndex, PreparedSet images, string? previousFolder, string folder,
        ITrainingObserver observer, PhaseCheckpoint? checkpoint = null, string? repoRoot = null, string? imageNetFile = null, RowSplit? split = null)
    {
        split ??= RowSplit.Build(images.Rows, spec.Data);
        var species = split.TrainSpecies.Distinct().OrderBy(s => s, StringComparer.Ordinal).ToList();
        torch.manual_seed(spec.Train.Seed);
        using var model = ModelFactory.Create(spec.Model, split.Classes.Count, spec.Model.SpeciesHead ? species.Count : 0);
        WeightImportReport? pretrained = null;
        if (previousFolder is not null) model.load(Path.Combine(previousFolder, ModelFile));
        else if (phaseIndex == 0) pretrained = ModelFactory.LoadPretrained(model, spec.Model, repoRoot, imageNetFile);
        // Built and loaded on the CPU (the same initial weights on every device), then moved: batches follow the model.
        model.to(ComputeDevice.Resolve(spec.Train.Device));

        var phase = spec.Train.Phases[phaseIndex];
        var head = spec.Model.Head;
        var margins = head.DynamicMargin
            ? DynamicMargins.FromLabels(split.TrainLabels, split.Classes.Count, head.MarginA, head.MarginB, head.MarginC)
            : null;
        var speciesIndex = species.Select((s, i) => (s, i)).ToDictionary(p => p.s, p => (long)p.i, StringComparer.Ordinal);
        var speciesLabels = spec.Model.SpeciesHead ? split.TrainSpecies.Select(s => speciesIndex[s]).ToList() : null;
        Func<double?>? validate = spec.Train.ValidateEachEpoch && split.ValidationRows.Count > 0 ? EpochValidation(model, images, split, spec) : null;
        var history = new Trainer(spec.Train, observer, spec.Model.Groups.EarlyUntil) { MarginWarmup = spec.Model.Head.MarginWarmup }
            .RunPhase(model, images, new LabelledRows(split.TrainRows, split.TrainLabels, split.Classes.Count, margins, speciesLabels), phase, phaseIndex,
                checkpoint, validate);

        model.save(Path.Combine(folder, ModelFile));
        File.WriteAllText(Path.Combine(folder, ClassesFile), JsonSerializer.Serialize(split.Classes));
        File.WriteAllText(Path.Combine(folder, HistoryFile), JsonSerializer.Serialize(history, JsonOptions));
        var last = history[^1];
        return new JsonObject
        {
            ["classes"] = split.Classes.Count,
            ["train_images"] = split.TrainRows.Count,
            ["epochs"] = history.Count,
            ["final_loss"] = last.Loss,
            ["images_per_second"] = history.Average(h => h.ImagesPerSecond),
            ["pretrained"] = pretrained?.Describe(),
        };
    }

    /// <summary>Validation MAP@5 of the model as it is after each epoch (the per-epoch curve).</summary>
    static Func<double?> EpochValidation(ReidModel model, PreparedSet images, RowSplit split, ExperimentSpec spec)
    {
        // Labels and fillers do not change between epochs: only the embeddings are recomputed.
        var ids = images.Rows.ToDictionary(r => r.Row, r => r.IndividualId);
        // Pseudo-labelled test photos train but are no gallery: validation compares with the fold's own images, as evaluate does.
        var galleryRows = split.TrainRows.Where(r => images.Rows[r].Subset == "train").ToList();
        var galleryIds = galleryRows.Select(r => ids[r]).ToList();
        var queryIds = split.ValidationRows.Select(r => ids[r]).ToList();
        var filler = SampleSubmission.FixedPredictions(galleryIds).Where(id => id != NewIndividual.Id).ToList();
        return () =>
        {
            using var gallery = EmbeddingExtractor.Extract(model, images, galleryRows, spec.Evaluate.BatchSize);
            using var queries = EmbeddingExtractor.Extract(model, images, split.ValidationRows, spec.Evaluate.BatchSize);
            return ValidationScorer.Score(gallery, galleryIds, queries, queryIds, spec.Evaluate, filler).Map5;
        };
    }

    public static IReadOnlyList<EpochStats> ReadHistory(string folder) =>
        JsonSerializer.Deserialize<List<EpochStats>>(File.ReadAllText(Path.Combine(folder, HistoryFile)), JsonOptions) ?? [];

    public static IReadOnlyList<string> ReadClasses(string folder) =>
        JsonSerializer.Deserialize<List<string>>(File.ReadAllText(Path.Combine(folder, ClassesFile))) ?? [];

    static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };
}
