using System.Text.Json.Nodes;
using HappyWhale.Data;
using HappyWhale.Experiments;
using HappyWhale.Imaging;

namespace HappyWhale.Pipeline;

/// <summary>
/// prepare: source fingerprint + prepare section (at one image size) + the data keys that decide which
/// images are read -> uint8 .npy shards + index.csv holding every training and test image. Labels stay as
/// in train.csv; cleaning happens at use (the species typos found are reported in the summary). Bad inputs
/// stop the run with a list of every one, or are skipped and listed (data.on_bad_image).
/// </summary>
public static class PrepareStage
{
    public const int Version = 2;

    /// <summary>
    /// The prepare section (at the top of the key document; the phase's image size replaces image_size) and the data keys
    /// prepare reads: the bad-input policy, and for the folder source the query split. The images themselves are the
    /// source fingerprint.
    /// </summary>
    public static StageDeclaration Declaration(DataSpec data) => new(StageNames.Prepare, Version,
        [new KeyGroup(null, "prepare"), new KeyGroup("data", "data") { Only = data.Source == DataSource.Folder ? FolderDataKeys : DataKeys }]);

    static readonly string[] DataKeys = ["on_bad_image", "max_image_pixels"];
    static readonly string[] FolderDataKeys = [.. DataKeys, "max_zip_entry_bytes", "query_share", "new_individual_share", "seed"];

    public static StageRequest Request(ResolvedExperiment experiment, int imageSize, string sourceFingerprint) =>
        Declaration(experiment.Spec.Data).Request(experiment, new JsonObject { ["image_size"] = imageSize },
            fingerprints: new Dictionary<string, string> { ["source"] = sourceFingerprint });

    public static JsonObject Compute(IImageSource source, PrepareSpec spec, string folder, Func<int, IProgress<int>> progressFor) =>
        Compute(source, spec, new DataSpec { OnBadImage = BadImagePolicy.Stop, MaxImagePixels = BadItems.DefaultMaxImagePixels }, folder, progressFor);

    /// <param name="stopOutcome">what a stop on bad input means, for its message (predict prepares its photos here too).</param>
    /// <param name="requireTraining">false for a set that is only ever embedded and ranked (predict's photos), which has no training images.</param>
    public static JsonObject Compute(IImageSource source, PrepareSpec spec, DataSpec data, string folder, Func<int, IProgress<int>> progressFor,
        string stopOutcome = "nothing was trained", bool requireTraining = true)
    {
        var listing = source.List();
        var problems = new List<BadItem>(listing.Problems);
        BoxTable? boxes = null;
        if (spec.Crop == CropMode.Box)
        {
            var files = spec.Boxes.Select(source.DataFile).OfType<string>().ToList();
            if (files.Count == 0)
                throw new UserException($"prepare.crop is box but none of prepare.boxes ({string.Join(", ", spec.Boxes)}) exists under {source.Description}; " +
                                        "add the box CSV (image,x0,y0,x1,y1[,confidence]) there, list the right file names, or set prepare.crop: none.");
            boxes = BoxTable.Read(files, problems);
        }
        var options = new PrepareOptions(data.OnBadImage, data.MaxImagePixels, boxes, spec.BoxMargin, stopOutcome);
        var outcome = Preparer.Run(listing.Images, spec, folder, options, problems, progressFor(listing.Images.Count));
        var rows = outcome.Rows;
        if (requireTraining && !rows.Any(r => r.Subset == "train")) throw new UserException(NoTrainingImages(source, listing));

        var typos = SpeciesCleaner.Clean(rows.Where(r => r.Subset == "train").Select(r => r.Sample).ToList()).Merges;
        var summary = new JsonObject
        {
            ["images"] = rows.Count,
            ["train_images"] = rows.Count(r => r.Subset == "train"),
            ["test_images"] = rows.Count(r => r.Subset == "test"),
            ["image_size"] = spec.ImageSize,
            ["species_typos"] = new JsonArray(typos.Select(m => (JsonNode)new JsonObject { ["from"] = m.From, ["to"] = m.To, ["rows"] = m.Rows }).ToArray()),
            ["bad_items_skipped"] = new JsonArray(outcome.Skipped.Select(b => (JsonNode)JsonValue.Create(b.ToString())).ToArray()),
        };
        if (spec.Crop == CropMode.Box)
            summary["boxes"] = new JsonObject
            {
                ["files"] = new JsonArray(boxes!.Files.Select(f => (JsonNode)JsonValue.Create(Path.GetFileName(f))).ToArray()),
                ["cropped"] = outcome.Cropped,
                ["no_box_whole_image"] = outcome.NoBox,
                ["unusable_box_whole_image"] = outcome.BadBox,
            };
        foreach (var (key, count) in listing.Counts) summary[key] = count;
        return summary;
    }

    static string NoTrainingImages(IImageSource source, SourceListing listing)
    {
        if (listing.Images.Any(i => i.Subset == "train"))
            return $"no training images left in {source.Description}: every one was bad and skipped (data.on_bad_image: skip); fix them or add images.";
        return source is KaggleSource kaggle
            ? $"{kaggle.TrainCsv} lists no images (a header and no rows): nothing to train on. Add rows image,species,individual_id."
            : $"no training images in {source.Description}: expected files at <species>/<individual>/<image>.";
    }

    /// <summary>Console lines worth seeing from a prepare summary (also on a cache hit): species merges, skipped items, box fallbacks.</summary>
    public static IEnumerable<string> ReportLines(JsonObject summary, DataSpec data)
    {
        if (summary["species_typos"] is JsonArray { Count: > 0 } typos)
        {
            var list = string.Join(", ", typos.Select(t => $"{t!["from"]} -> {t["to"]} ({t["rows"]} rows)"));
            yield return data.CleanSpecies ? $"species cleaned: {list}" : $"species typos kept (data.clean_species is false): {list}";
        }
        if (summary["bad_items_skipped"] is JsonArray { Count: > 0 } skipped)
        {
            yield return $"skipped {skipped.Count} bad input item(s) (data.on_bad_image: skip):";
            foreach (var item in skipped) yield return "  " + item;
        }
        if (summary["boxes"] is JsonObject boxes)
            yield return $"boxes: {boxes["cropped"]} cropped, {boxes["no_box_whole_image"]} without a box and {boxes["unusable_box_whole_image"]} with an unusable box used whole";
        if (summary["duplicate_images_skipped"] is JsonValue dup && dup.GetValue<int>() > 0)
            yield return $"{dup} image(s) found in more than one root were read once (first root wins)";
    }
}
