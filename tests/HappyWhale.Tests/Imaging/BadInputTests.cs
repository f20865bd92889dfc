using System.Text.Json.Nodes;
using HappyWhale.Data;
using HappyWhale.Experiments;
using HappyWhale.Pipeline;
using HappyWhale.Tests.Data;

namespace HappyWhale.Tests.Imaging;

public class BadInputTests
{
    static readonly PrepareSpec Spec = new() { ImageSize = 8, Resize = SquareResize.Squash, ShardImages = 4, Crop = CropMode.None, Boxes = ["boxes.csv"], BoxMargin = 1 };

    static DataSpec Data(string policy, long maxPixels = 10_000) => new() { OnBadImage = Choice.Parse<BadImagePolicy>(policy)!.Value, MaxImagePixels = maxPixels };

    // A Kaggle folder with three good training images, one good test image and every kind of bad input.
    static TempFolder KaggleWithBadInputs()
    {
        var dir = new TempFolder();
        Directory.CreateDirectory(dir.Combine("train_images"));
        Directory.CreateDirectory(dir.Combine("test_images"));
        for (int i = 0; i < 3; i++) File.WriteAllBytes(dir.Combine("train_images", $"good{i}.png"), FolderSourceTests.Png(i));
        File.WriteAllBytes(dir.Combine("test_images", "q.png"), FolderSourceTests.Png(9));
        File.WriteAllBytes(dir.Combine("train_images", "empty.jpg"), []);
        File.WriteAllBytes(dir.Combine("train_images", "corrupt.jpg"), [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 1, 2, 3, 4, 5]);
        File.WriteAllBytes(dir.Combine("train_images", "huge.png"), FolderSourceTests.Png(5, size: 120));   // 14,400 px > 10,000
        File.WriteAllText(dir.Combine("train.csv"), """
            image,species,individual_id
            good0.png,beluga,a
            good1.png,beluga,a
            missing.jpg,beluga,b
            empty.jpg,beluga,b
            corrupt.jpg,beluga,c
            good2.png,beluga
            huge.png,beluga,d
            good2.png,beluga,e
            good0.png,beluga,f
            """.Replace("\r", ""));
        return dir;
    }

    static JsonObject Prepare(TempFolder dir, DataSpec data, PrepareSpec? spec = null) =>
        PrepareStage.Compute(new KaggleSource(dir.Path), spec ?? Spec, data, dir.Combine("prepared"), _ => new Progress<int>());

    [Fact]
    public void Stop_lists_every_bad_item_with_file_row_and_reason()
    {
        using var dir = KaggleWithBadInputs();
        var e = Assert.Throws<UserException>(() => Prepare(dir, Data("stop")));
        var lines = e.Message.Split('\n');
        Assert.StartsWith("6 bad input item(s)", lines[0]);
        string csv = dir.Combine("train.csv");
        Assert.Contains($"  {csv}:7: 2 field(s), expected 3 (image,species,individual_id)", lines);
        Assert.Contains($"  {csv}:10: image good0.png already listed on line 2", lines);
        Assert.Contains(lines, l => l.Contains("missing.jpg: image file not found (listed on line 4"));
        Assert.Contains(lines, l => l.Contains("empty.jpg: empty file (0 bytes) (listed on line 5"));
        Assert.Contains(lines, l => l.Contains("corrupt.jpg: ") && (l.Contains("cannot decode") || l.Contains("not an image")));
        Assert.Contains(lines, l => l.Contains("huge.png: 120 x 120 = 14,400 pixels, above data.max_image_pixels = 10,000"));
        Assert.Contains("data.on_bad_image: skip", e.Message);
        Assert.DoesNotContain("   at ", e.Message);
    }

    [Fact]
    public void Skip_leaves_them_out_and_reports_them_in_the_summary()
    {
        using var dir = KaggleWithBadInputs();
        var summary = Prepare(dir, Data("skip"));
        Assert.Equal(3, summary["train_images"]!.GetValue<int>());   // good0, good1, good2 (listed as e on line 9)
        Assert.Equal(1, summary["test_images"]!.GetValue<int>());
        var skipped = summary["bad_items_skipped"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
        Assert.Equal(6, skipped.Count);
        Assert.Contains(skipped, s => s.Contains("huge.png"));
        var lines = PrepareStage.ReportLines(summary, new DataSpec { CleanSpecies = true }).ToList();
        Assert.Contains("skipped 6 bad input item(s) (data.on_bad_image: skip):", lines);
        var rows = HappyWhale.Imaging.PreparedIndex.Read(dir.Combine("prepared", "index.csv"));
        Assert.Equal(["good0.png", "good1.png", "good2.png", "q.png"], rows.Select(r => r.Image));
    }

    [Fact]
    public void A_label_csv_with_missing_columns_stops_even_with_skip()
    {
        using var dir = KaggleWithBadInputs();
        File.WriteAllText(dir.Combine("train.csv"), "image,species\ngood0.png,beluga\n");
        var e = Assert.Throws<UserException>(() => Prepare(dir, Data("skip")));
        Assert.Contains($"{dir.Combine("train.csv")}:1: header is 'image,species', expected 'image,species,individual_id' (missing column(s) individual_id)", e.Message);
    }

    [Fact]
    public void Bad_box_rows_are_bad_items_too()
    {
        using var dir = KaggleWithBadInputs();
        File.WriteAllText(dir.Combine("train.csv"), "image,species,individual_id\ngood0.png,beluga,a\n");
        File.WriteAllText(dir.Combine("boxes.csv"), "image,x0,y0,x1,y1\ngood0.png,1,1,abc,5\n");
        var e = Assert.Throws<UserException>(() => Prepare(dir, Data("stop"), Spec with { Crop = CropMode.Box }));
        Assert.Contains($"{dir.Combine("boxes.csv")}:2: x1 'abc' is not a number", e.Message);
    }

    [Fact]
    public void Box_crop_without_any_box_file_is_a_user_error()
    {
        using var dir = KaggleWithBadInputs();
        var e = Assert.Throws<UserException>(() => Prepare(dir, Data("skip"), Spec with { Crop = CropMode.Box, Boxes = ["nope.csv"] }));
        Assert.Contains("none of prepare.boxes (nope.csv) exists", e.Message);
    }
}
