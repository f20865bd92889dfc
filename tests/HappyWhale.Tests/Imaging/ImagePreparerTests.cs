using HappyWhale.Experiments;
using HappyWhale.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace HappyWhale.Tests.Imaging;

public class ImagePreparerTests
{
    // A wide 200 x 100 PNG: white, with a red left half.
    static string WidePng(TempFolder dir)
    {
        string path = dir.Combine("wide.png");
        using var image = new Image<Rgb24>(200, 100, new Rgb24(255, 255, 255));
        for (int y = 0; y < 100; y++)
            for (int x = 0; x < 100; x++) image[x, y] = new Rgb24(255, 0, 0);
        image.SaveAsPng(path);
        return path;
    }

    static Rgb24 Pixel(byte[] hwc, int size, int x, int y)
    {
        int i = (y * size + x) * 3;
        return new Rgb24(hwc[i], hwc[i + 1], hwc[i + 2]);
    }

    [Fact]
    public void Squash_fills_the_square()
    {
        using var dir = new TempFolder();
        var pixels = new ImagePreparer(64, SquareResize.Squash, false).Prepare(WidePng(dir));
        Assert.Equal(64 * 64 * 3, pixels.Length);
        Assert.Equal(new Rgb24(255, 0, 0), Pixel(pixels, 64, 10, 0));
        Assert.Equal(new Rgb24(255, 0, 0), Pixel(pixels, 64, 10, 63));
        Assert.Equal(new Rgb24(255, 255, 255), Pixel(pixels, 64, 50, 32));
    }

    [Fact]
    public void Letterbox_keeps_the_aspect_and_pads_with_black()
    {
        using var dir = new TempFolder();
        var pixels = new ImagePreparer(64, SquareResize.Letterbox, false).Prepare(WidePng(dir));
        // 200 x 100 -> 64 x 32, centred: rows 16..47 hold the image, the rest is black.
        for (int x = 0; x < 64; x += 7)
        {
            Assert.Equal(new Rgb24(0, 0, 0), Pixel(pixels, 64, x, 2));
            Assert.Equal(new Rgb24(0, 0, 0), Pixel(pixels, 64, x, 61));
        }
        Assert.Equal(new Rgb24(255, 0, 0), Pixel(pixels, 64, 10, 32));
        Assert.Equal(new Rgb24(255, 255, 255), Pixel(pixels, 64, 50, 32));
        Assert.True(Pixel(pixels, 64, 50, 14).R < 40 && Pixel(pixels, 64, 50, 18).R > 215);
        Assert.True(Pixel(pixels, 64, 50, 49).R < 40 && Pixel(pixels, 64, 50, 45).R > 215);
    }

    [Fact]
    public void Bilinear_resampling_leaves_a_thin_stroke_softer_than_bicubic()
    {
        using var dir = new TempFolder();
        string path = dir.Combine("stroke.png");
        using (var image = new Image<Rgb24>(105, 105, new Rgb24(255, 255, 255)))   // an Omniglot-sized page with a 1-px stroke
        {
            for (int y = 0; y < 105; y++) image[52, y] = new Rgb24(0, 0, 0);
            image.SaveAsPng(path);
        }
        byte Darkest(Resample resample)
        {
            var pixels = new ImagePreparer(64, SquareResize.Squash, true, resample).Prepare(path);
            return Enumerable.Range(0, 64).Min(x => Pixel(pixels, 64, x, 32).R);
        }
        byte bicubic = Darkest(Resample.Bicubic), bilinear = Darkest(Resample.Bilinear);
        Assert.True(bilinear > bicubic, $"bilinear's darkest {bilinear} should be lighter than bicubic's {bicubic}");
        Assert.True(bilinear < 200, $"the stroke survives the resize ({bilinear})");
    }

    [Fact]
    public void Grayscale_stores_three_equal_channels()
    {
        using var dir = new TempFolder();
        var pixels = new ImagePreparer(32, SquareResize.Squash, true).Prepare(WidePng(dir));
        for (int i = 0; i < pixels.Length; i += 3)
        {
            Assert.Equal(pixels[i], pixels[i + 1]);
            Assert.Equal(pixels[i], pixels[i + 2]);
        }
        Assert.InRange(Pixel(pixels, 32, 3, 16).R, 74, 78);    // luma of pure red
    }

    [Fact]
    public void Exif_orientation_is_applied()
    {
        using var dir = new TempFolder();
        string path = dir.Combine("rotated.jpg");
        using (var image = new Image<Rgb24>(80, 40, new Rgb24(255, 255, 255)))
        {
            image.Metadata.ExifProfile = new SixLabors.ImageSharp.Metadata.Profiles.Exif.ExifProfile();
            image.Metadata.ExifProfile.SetValue(SixLabors.ImageSharp.Metadata.Profiles.Exif.ExifTag.Orientation, (ushort)6);
            image.SaveAsJpeg(path);
        }
        // Orientation 6 = rotate 90 degrees clockwise: the 80 x 40 photo displays as 40 x 80, so the letterbox bars are left and right.
        var pixels = new ImagePreparer(32, SquareResize.Letterbox, false).Prepare(path);
        Assert.True(Pixel(pixels, 32, 1, 16).R < 40);
        Assert.True(Pixel(pixels, 32, 16, 1).R > 215);
    }
}
