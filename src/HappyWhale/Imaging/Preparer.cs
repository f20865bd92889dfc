using HappyWhale.Data;
using HappyWhale.Experiments;

namespace HappyWhale.Imaging;

/// <summary>Options of a prepare run beyond the prepare section: bad input policy, pixel limit and boxes; what a stop means, for its message.</summary>
public sealed record PrepareOptions(BadImagePolicy OnBadImage = BadImagePolicy.Stop, long MaxImagePixels = BadItems.DefaultMaxImagePixels,
    BoxTable? Boxes = null, double BoxMargin = 1.0, string StopOutcome = "nothing was trained");

/// <summary>What a prepare run wrote: the rows, the bad items it skipped, and how boxes were used.</summary>
public sealed record PrepareOutcome(IReadOnlyList<PreparedRow> Rows, IReadOnlyList<BadItem> Skipped, int Cropped, int NoBox, int BadBox);

/// <summary>
/// Turns photos into a prepared set (see <see cref="PreparedSet"/>): decodes and resizes in parallel,
/// a chunk at a time with a bounded degree of parallelism, and writes results in input order, so the
/// output is identical whatever the thread timing. Bad images are collected, never thrown one by one:
/// with the stop policy the run ends with a <see cref="UserException"/> listing every one (the caller's
/// output folder is temporary, so nothing half-written remains); with skip they are left out.
/// </summary>
public static class Preparer
{
    public static IReadOnlyList<PreparedRow> Prepare(
        IReadOnlyList<(string path, Sample sample, string subset)> items,
        PrepareSpec spec, string outputDir, IProgress<int>? progress = null, int maxDegreeOfParallelism = 0) =>
        Run(items.Select(i => new SourceImage(i.sample, i.subset, i.path, () => File.OpenRead(i.path))).ToList(),
            spec, outputDir, new PrepareOptions(), [], progress, maxDegreeOfParallelism).Rows;

    public static PrepareOutcome Run(IReadOnlyList<SourceImage> items, PrepareSpec spec, string outputDir, PrepareOptions options,
        IReadOnlyList<BadItem> earlierProblems, IProgress<int>? progress = null, int maxDegreeOfParallelism = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(spec.ImageSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(spec.ShardImages, 1);
        foreach (var item in items)
            if (item.Subset is not ("train" or "test"))
                throw new ArgumentException($"{item.Location}: subset '{item.Subset}' is not train or test");

        bool crop = spec.Crop == CropMode.Box;
        var preparer = new ImagePreparer(spec.ImageSize, spec.Resize, spec.Grayscale, spec.Resample);
        long maxPixels = options.MaxImagePixels > 0 ? options.MaxImagePixels : BadItems.DefaultMaxImagePixels;
        int degree = maxDegreeOfParallelism > 0 ? maxDegreeOfParallelism : Environment.ProcessorCount;
        int chunk = Math.Max(16, degree * 8);
        Directory.CreateDirectory(outputDir);

        var bad = new List<BadItem>(earlierProblems);
        var rows = new List<PreparedRow>(items.Count);
        var decoded = new (byte[]? Pixels, CropOutcome Crop, string? Error)[chunk];
        int cropped = 0, noBox = 0, badBox = 0;
        NpyShardWriter? writer = null;
        try
        {
            for (int start = 0; start < items.Count; start += chunk)
            {
                int n = Math.Min(chunk, items.Count - start);
                Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = degree }, i =>
                {
                    var item = items[start + i];
                    Box? box = crop && options.Boxes is { } boxes && boxes.TryGet(item.Sample.Image, out var b) ? b : null;
                    decoded[i] = Decode(preparer, item, box, options.BoxMargin, maxPixels, crop);
                });
                for (int i = 0; i < n; i++)
                {
                    var item = items[start + i];
                    var (pixels, outcome, error) = decoded[i];
                    decoded[i] = default;
                    if (pixels is null)
                    {
                        string listed = item.ListedOnLine is { } line ? $" (listed on line {line} of the label CSV)" : "";
                        bad.Add(new BadItem(item.Location, null, error + listed));
                        continue;
                    }
                    switch (outcome)
                    {
                        case CropOutcome.Cropped: cropped++; break;
                        case CropOutcome.NoBox: noBox++; break;
                        case CropOutcome.BadBox: badBox++; break;
                    }
                    int row = rows.Count, shard = row / spec.ShardImages;
                    if (writer is null || writer.Count == spec.ShardImages)
                    {
                        writer?.Dispose();
                        writer = new NpyShardWriter(Path.Combine(outputDir, PreparedIndex.ShardFileName(shard)), spec.ImageSize, spec.ImageSize);
                    }
                    rows.Add(new PreparedRow(row, shard, writer.Count, item.Sample.Image, item.Sample.Species, item.Sample.IndividualId, item.Subset));
                    writer.Append(pixels);
                }
                progress?.Report(start + n);
            }
        }
        finally
        {
            writer?.Dispose();
        }
        BadItems.ThrowIfStopping(bad, options.OnBadImage, options.StopOutcome);
        PreparedIndex.Write(Path.Combine(outputDir, PreparedIndex.FileName), rows);
        return new PrepareOutcome(rows, bad, cropped, noBox, badBox);
    }

    static (byte[]?, CropOutcome, string?) Decode(ImagePreparer preparer, SourceImage item, Box? box, double margin, long maxPixels, bool crop)
    {
        try
        {
            using var stream = item.Open();
            var (pixels, outcome) = preparer.Prepare(stream, box, margin, maxPixels, crop);
            return (pixels, outcome, null);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return (null, default, "image file not found"); }
        catch (BadImageException e) { return (null, default, e.Message); }
        // A zip entry that is corrupt or inflates beyond its limits (FolderSource).
        catch (InvalidDataException e) { return (null, default, e.Message); }
        catch (IOException e) { return (null, default, $"cannot read ({e.Message})"); }
        catch (UnauthorizedAccessException e) { return (null, default, $"cannot read ({e.Message})"); }
    }
}
