using System.Text.Json.Nodes;
using HappyWhale.Data;
using HappyWhale.Experiments;
using HappyWhale.Imaging;

namespace HappyWhale.Pipeline;

/// <summary>
/// prepare: source fingerprint + prepare section (at one image size) -> uint8 .npy shards + index.csv
/// holding every training and test image. Labels stay as in train.csv; cleaning happens at use.
/// </summary>
public static class PrepareStage
{
    public const int Version = 1;

    public static StageRequest Request(ResolvedExperiment experiment, int imageSize, string sourceFingerprint)
    {
        var parameters = experiment.Section("prepare")!.AsObject().DeepClone().AsObject();
        parameters["image_size"] = imageSize;
        return new StageRequest(StageNames.Prepare, Version, parameters, new Dictionary<string, string>(),
            new Dictionary<string, string> { ["source"] = sourceFingerprint });
    }

    public static JsonObject Compute(KaggleSource source, PrepareSpec spec, string folder, Func<int, IProgress<int>> progressFor)
    {
        var items = new List<(string path, Sample sample, string subset)>();
        foreach (var s in source.ReadTrain()) items.Add((source.TrainImagePath(s.Image), s, "train"));
        foreach (var image in source.ListTestImages()) items.Add((source.TestImagePath(image), new Sample(image, "", ""), "test"));
        var rows = Preparer.Prepare(items, spec, folder, progressFor(items.Count));
        return new JsonObject
        {
            ["images"] = rows.Count,
            ["train_images"] = rows.Count(r => r.Subset == "train"),
            ["test_images"] = rows.Count(r => r.Subset == "test"),
            ["image_size"] = spec.ImageSize,
        };
    }
}
