using HappyWhale.Data;
using HappyWhale.Experiments;

namespace HappyWhale.Imaging;

/// <summary>
/// Turns photos into a prepared set (see <see cref="PreparedSet"/>): decodes and resizes in parallel,
/// a chunk at a time with a bounded degree of parallelism, and writes results in input order, so the
/// output is identical whatever the thread timing.
/// </summary>
public static class Preparer
{
    public static IReadOnlyList<PreparedRow> Prepare(
        IReadOnlyList<(string path, Sample sample, string subset)> items,
        PrepareSpec spec, string outputDir, IProgress<int>? progress = null, int maxDegreeOfParallelism = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(spec.ImageSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(spec.ShardImages, 1);
        foreach (var item in items)
            if (item.subset is not ("train" or "test"))
                throw new ArgumentException($"{item.path}: subset '{item.subset}' is not train or test");

        var preparer = new ImagePreparer(spec.ImageSize, ImagePreparer.ParseResize(spec.Resize), spec.Grayscale);
        int degree = maxDegreeOfParallelism > 0 ? maxDegreeOfParallelism : Environment.ProcessorCount;
        int chunk = Math.Max(16, degree * 8);
        Directory.CreateDirectory(outputDir);

        var rows = new List<PreparedRow>(items.Count);
        var decoded = new byte[chunk][];
        NpyShardWriter? writer = null;
        try
        {
            for (int start = 0; start < items.Count; start += chunk)
            {
                int n = Math.Min(chunk, items.Count - start);
                Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = degree },
                    i => decoded[i] = preparer.Prepare(items[start + i].path));
                for (int i = 0; i < n; i++)
                {
                    int row = start + i, shard = row / spec.ShardImages;
                    if (writer is null || writer.Count == spec.ShardImages)
                    {
                        writer?.Dispose();
                        writer = new NpyShardWriter(Path.Combine(outputDir, PreparedIndex.ShardFileName(shard)), spec.ImageSize, spec.ImageSize);
                    }
                    var (_, sample, subset) = items[row];
                    rows.Add(new PreparedRow(row, shard, writer.Count, sample.Image, sample.Species, sample.IndividualId, subset));
                    writer.Append(decoded[i]);
                    decoded[i] = null!;
                }
                progress?.Report(start + n);
            }
        }
        finally
        {
            writer?.Dispose();
        }
        PreparedIndex.Write(Path.Combine(outputDir, PreparedIndex.FileName), rows);
        return rows;
    }
}
