using System.Text.Json;
using System.Text.Json.Nodes;
using HappyWhale.Data;
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
    public const int Version = 1;
    public const string ModelFile = "model.bin", ClassesFile = "classes.json", HistoryFile = "history.json";

    // Keys that change how fast training runs, not what it produces.
    static readonly string[] RuntimeOnlyKeys = ["threads", "device"];

    public static StageRequest Request(ResolvedExperiment experiment, int phaseIndex, int imageSize, string prepareKey, string? previousTrainKey)
    {
        var train = experiment.Section("train")!.AsObject().DeepClone().AsObject();
        var phases = train["phases"]!.AsArray();
        train.Remove("phases");
        foreach (var key in RuntimeOnlyKeys) train.Remove(key);
        var phase = phases[phaseIndex]!.DeepClone().AsObject();
        phase["image_size"] = imageSize;
        var parameters = new JsonObject
        {
            ["model"] = experiment.Section("model")!.DeepClone(),
            ["split"] = SplitParameters(experiment),
            ["train"] = train,
            ["phase_index"] = phaseIndex,
            ["phase"] = phase,
        };
        var inputs = new Dictionary<string, string> { ["prepare"] = prepareKey };
        if (previousTrainKey is not null) inputs["previous_phase"] = previousTrainKey;
        return new StageRequest(StageNames.Train, Version, parameters, inputs, new Dictionary<string, string>());
    }

    /// <summary>The data keys that decide which images train and which validate.</summary>
    public static JsonObject SplitParameters(ResolvedExperiment experiment)
    {
        var data = experiment.Section("data")!.AsObject();
        var split = new JsonObject();
        foreach (var key in new[] { "clean_species", "species", "min_images_per_id", "max_individuals", "duplicate_singletons", "folds", "fold", "holdout_individuals", "seed" })
            split[key] = data[key]?.DeepClone();
        return split;
    }

    public static JsonObject Compute(ExperimentSpec spec, int phaseIndex, PreparedSet images, string? previousFolder, string folder, ITrainingObserver observer)
    {
        var split = RowSplit.Build(images.Rows, spec.Data);
        torch.manual_seed(spec.Train.Seed);
        using var model = ModelFactory.Create(spec.Model, split.Classes.Count);
        if (previousFolder is not null) model.load(Path.Combine(previousFolder, ModelFile));

        var phase = spec.Train.Phases[phaseIndex];
        var history = new Trainer(spec.Train, observer)
            .RunPhase(model, images, new LabelledRows(split.TrainRows, split.TrainLabels, split.Classes.Count), phase, phaseIndex);

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
        };
    }

    public static IReadOnlyList<EpochStats> ReadHistory(string folder) =>
        JsonSerializer.Deserialize<List<EpochStats>>(File.ReadAllText(Path.Combine(folder, HistoryFile)), JsonOptions) ?? [];

    public static IReadOnlyList<string> ReadClasses(string folder) =>
        JsonSerializer.Deserialize<List<string>>(File.ReadAllText(Path.Combine(folder, ClassesFile))) ?? [];

    static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };
}
