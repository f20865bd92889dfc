using HappyWhale.Data;
using HappyWhale.Experiments;
using HappyWhale.Imaging;
using HappyWhale.Pipeline;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace HappyWhale.Tests.Imaging;

public class BoxCropTests
{
    [Fact]
    public void Margin_enlarges_about_the_centre()
    {
        Assert.Equal((10, 20, 10, 20), BoxCrop.Rectangle(new Box(10, 20, 20, 40), 1.0, 100, 100));
        Assert.Equal((5, 10, 20, 40), BoxCrop.Rectangle(new Box(10, 20, 20, 40), 2.0, 100, 100));
        Assert.Equal((9, 18, 12, 24), BoxCrop.Rectangle(new Box(10, 20, 20, 40), 1.2, 100, 100));
    }

    [Fact]
    public void Crop_is_clipped_to_the_image_and_empty_boxes_give_none()
    {
        Assert.Equal((0, 0, 28, 20), BoxCrop.Rectangle(new Box(-10, -5, 20, 15), 1.5, 30, 25));   // (-17.5, -10)-(27.5, 20) clipped
        Assert.Equal((0, 0, 30, 25), BoxCrop.Rectangle(new Box(0, 0, 30, 25), 3, 30, 25));
        Assert.Equal((90, 40, 10, 10), BoxCrop.Rectangle(new Box(90, 40, 110, 60), 1.0, 100, 50));
        Assert.Null(BoxCrop.Rectangle(new Box(10, 10, 10, 20), 1.2, 100, 100));      // zero width
        Assert.Null(BoxCrop.Rectangle(new Box(20, 10, 10, 20), 1.2, 100, 100));      // inverted
        Assert.Null(BoxCrop.Rectangle(new Box(200, 200, 220, 220), 1.2, 100, 100));  // outside
    }

    [Fact]
    public void Boxes_come_from_the_first_file_listing_the_image_and_the_most_confident_row()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.Combine("a.csv"), "image,x0,y0,x1,y1,confidence\nx.jpg,0,0,1,1,0.2\nx.jpg,0,0,2,2,0.9\n");
        File.WriteAllText(dir.Combine("b.csv"), "image,x0,y0,x1,y1\nx.jpg,0,0,3,3\ny.jpg,1,1,4,4\n");
        var problems = new List<BadItem>();
        var table = BoxTable.Read([dir.Combine("a.csv"), dir.Combine("b.csv")], problems);
        Assert.Empty(problems);
        Assert.True(table.TryGet("x.jpg", out var x));
        Assert.Equal(2, x.X1);
        Assert.True(table.TryGet("y.jpg", out var y));
        Assert.Equal(4, y.X1);
        Assert.False(table.TryGet("z.jpg", out _));
    }

    [Fact]
    public void Prepare_crops_to_the_box_and_counts_whole_image_fallbacks()
    {
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir.Combine("train_images"));
        Directory.CreateDirectory(dir.Combine("test_images"));
        // 40 x 20 black images with a white 10 x 10 square at (20, 5).
        foreach (var name in new[] { "a.png", "b.png", "c.png" })
        {
            using var image = new Image<Rgb24>(40, 20);
            for (int yy = 5; yy < 15; yy++) for (int xx = 20; xx < 30; xx++) image[xx, yy] = new Rgb24(255, 255, 255);
            image.SaveAsPng(dir.Combine("train_images", name));
        }
        File.WriteAllText(dir.Combine("train.csv"), "image,species,individual_id\na.png,s,1\nb.png,s,1\nc.png,s,2\n");
        File.WriteAllText(dir.Combine("boxes.csv"), "image,x0,y0,x1,y1\na.png,20,5,30,15\nc.png,5,5,5,9\n");
        var spec = new PrepareSpec { ImageSize = 10, Resize = SquareResize.Squash, ShardImages = 10, Crop = CropMode.Box, Boxes = ["missing.csv", "boxes.csv"], BoxMargin = 1.0 };
        var summary = PrepareStage.Compute(new KaggleSource(dir.Path), spec, new DataSpec { OnBadImage = BadImagePolicy.Stop, MaxImagePixels = 1000 },
            dir.Combine("out"), _ => new Progress<int>());
        var boxes = summary["boxes"]!;
        Assert.Equal(1, boxes["cropped"]!.GetValue<int>());
        Assert.Equal(1, boxes["no_box_whole_image"]!.GetValue<int>());        // b.png
        Assert.Equal(1, boxes["unusable_box_whole_image"]!.GetValue<int>());  // c.png: zero width
        using var set = PreparedSet.Open(dir.Combine("out"));
        Assert.All(set.Image(0).ToArray(), v => Assert.True(v > 240));   // a: all white after the crop
        Assert.True(set.Image(1).ToArray().Count(v => v < 20) > 100);     // b: mostly black, whole image
    }

    [Fact]
    public void Exif_orientation_is_applied_before_cropping()
    {
        using var dir = new TempFolder();
        // Stored 20 wide x 10 high, white on the left half; EXIF orientation 6 (rotate 90 cw) shows it 10 x 20, white on top.
        using (var image = new Image<Rgb24>(20, 10))
        {
            for (int yy = 0; yy < 10; yy++) for (int xx = 0; xx < 10; xx++) image[xx, yy] = new Rgb24(255, 255, 255);
            image.Metadata.ExifProfile = new SixLabors.ImageSharp.Metadata.Profiles.Exif.ExifProfile();
            image.Metadata.ExifProfile.SetValue(SixLabors.ImageSharp.Metadata.Profiles.Exif.ExifTag.Orientation, (ushort)6);
            image.SaveAsJpeg(dir.Combine("r.jpg"), new SixLabors.ImageSharp.Formats.Jpeg.JpegEncoder { Quality = 100 });
        }
        var preparer = new ImagePreparer(4, SquareResize.Squash, false);
        using var stream = File.OpenRead(dir.Combine("r.jpg"));
        var (pixels, outcome) = preparer.Prepare(stream, new Box(0, 0, 10, 10), 1.0, 1000, crop: true);   // top square of the shown image
        Assert.Equal(CropOutcome.Cropped, outcome);
        Assert.True(pixels.Average(v => v) > 200, $"mean {pixels.Average(v => v)}");
    }
}
