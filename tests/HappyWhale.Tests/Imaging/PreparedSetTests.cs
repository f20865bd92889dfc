using HappyWhale.Data;
using HappyWhale.Experiments;
using HappyWhale.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace HappyWhale.Tests.Imaging;

public class PreparedSetTests
{
    // Seven 16 x 16 PNGs, each with its own deterministic noise.
    static List<(string path, Sample sample, string subset)> Items(TempFolder dir)
    {
        var items = new List<(string, Sample, string)>();
        for (int n = 0; n < 7; n++)
        {
            string name = $"img{n}.png";
            var rng = new Random(n);
            using var image = new Image<Rgb24>(16, 16);
            for (int y = 0; y < 16; y++)
                for (int x = 0; x < 16; x++) image[x, y] = new Rgb24((byte)rng.Next(256), (byte)rng.Next(256), (byte)rng.Next(256));
            image.SaveAsPng(dir.Combine(name));
            items.Add((dir.Combine(name), new Sample(name, "beluga", $"id{n % 3}"), n < 5 ? "train" : "test"));
        }
        return items;
    }

    static PrepareSpec Spec => new() { ImageSize = 16, Grayscale = false, Resize = SquareResize.Squash, ShardImages = 3 };

    [Fact]
    public void Writes_shards_and_index_in_input_order()
    {
        using var dir = new TempFolder();
        var items = Items(dir);
        string output = dir.Combine("prepared");
        var rows = Preparer.Prepare(items, Spec, output, maxDegreeOfParallelism: 2);

        Assert.Equal(["shard-00000.npy", "shard-00001.npy", "shard-00002.npy"],
            Directory.GetFiles(output, "*.npy").Select(f => Path.GetFileName(f)!).Order().ToArray());
        Assert.Equal(new[] { 0, 0, 0, 1, 1, 1, 2 }, rows.Select(r => r.Shard));
        Assert.Equal(new[] { 0, 1, 2, 0, 1, 2, 0 }, rows.Select(r => r.Offset));

        using var set = PreparedSet.Open(output);
        Assert.Equal(rows, set.Rows);
        Assert.Equal((7, 16, 16), (set.Count, set.Height, set.Width));
        Assert.Equal("test", set.Rows[6].Subset);
        Assert.Equal(items[4].sample, set.Rows[4].Sample);

        // Same size in and out: a squash is the identity, so the stored pixels are the PNG's.
        for (int n = 0; n < 7; n++)
        {
            using var image = Image.Load<Rgb24>(items[n].path);
            var expected = new byte[16 * 16 * 3];
            image.CopyPixelDataTo(expected);
            Assert.Equal(expected, set.Image(n).ToArray());
        }
    }

    [Fact]
    public void ReadBatch_returns_nchw_floats_matching_the_pixels()
    {
        using var dir = new TempFolder();
        string output = dir.Combine("prepared");
        Preparer.Prepare(Items(dir), Spec, output, maxDegreeOfParallelism: 2);
        using var set = PreparedSet.Open(output);

        int[] rows = [5, 1, 3];
        using var batch = set.ReadBatch(rows);
        Assert.Equal(new long[] { 3, 3, 16, 16 }, batch.shape);
        Assert.Equal(TorchSharp.torch.ScalarType.Float32, batch.dtype);
        var values = batch.data<float>().ToArray();
        for (int b = 0; b < rows.Length; b++)
        {
            var hwc = set.Image(rows[b]).ToArray();
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < 16; y += 5)
                    for (int x = 0; x < 16; x += 3)
                    {
                        float expected = hwc[(y * 16 + x) * 3 + c] / 255f;
                        Assert.Equal(expected, values[((b * 3 + c) * 16 + y) * 16 + x], 6);
                    }
        }
    }
}
