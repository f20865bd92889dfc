using HappyWhale.Data;
using HappyWhale.Experiments;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace HappyWhale.Imaging;

/// <summary>What happened to an image's box: used, none listed, or unusable (empty or outside the image) so the whole image was used.</summary>
public enum CropOutcome { NotRequested, Cropped, NoBox, BadBox }

/// <summary>An image that cannot be used, with the reason (missing, empty, not decodable, too many pixels).</summary>
public sealed class BadImageException(string reason, Exception? inner = null) : Exception(reason, inner);

/// <summary>
/// Decodes a photo (JPEG, PNG, ... anything ImageSharp reads), applies its EXIF orientation, resizes it
/// to a size x size square and returns the pixels as H x W x 3 bytes, row-major. Grayscale stores the
/// luma (BT.601) in all three channels. <paramref name="Resample"/> picks ImageSharp's bicubic or triangle (bilinear) filter.
/// </summary>
public sealed record ImagePreparer(int Size, SquareResize Resize, bool Grayscale, Resample Resample = Resample.Bicubic)
{
    public int ImageBytes => Size * Size * 3;

    public byte[] Prepare(string path)
    {
        using var stream = File.OpenRead(path);
        try { return Prepare(stream); }
        catch (BadImageException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    public byte[] Prepare(Stream stream) => Prepare(stream, null, 1, long.MaxValue, false).Pixels;

    /// <summary>
    /// Checks the header first (Image.Identify: format and pixel count against <paramref name="maxPixels"/>,
    /// before any pixel memory is allocated), decodes, applies the EXIF orientation, then crops to the
    /// box enlarged by <paramref name="margin"/> when <paramref name="crop"/> is set (the whole image when
    /// the box is null or unusable). Any unusable input throws <see cref="BadImageException"/>.
    /// </summary>
    public (byte[] Pixels, CropOutcome Crop) Prepare(Stream stream, Box? box, double margin, long maxPixels, bool crop)
    {
        if (stream.CanSeek && stream.Length == 0) throw new BadImageException("empty file (0 bytes)");
        Image<Rgb24> image;
        try
        {
            long start = stream.CanSeek ? stream.Position : 0;
            var info = Image.Identify(stream) ?? throw new BadImageException("not an image ImageSharp can read (unknown format)");
            long pixels = (long)info.Width * info.Height;
            if (pixels > maxPixels)
                throw new BadImageException($"{info.Width} x {info.Height} = {pixels:N0} pixels, above data.max_image_pixels = {maxPixels:N0}");
            stream.Position = start;
            image = Image.Load<Rgb24>(stream);
        }
        catch (BadImageException) { throw; }
        catch (Exception e) when (e is UnknownImageFormatException or InvalidImageContentException or ImageFormatException
                                      or NotSupportedException or InvalidDataException or EndOfStreamException or IndexOutOfRangeException
                                      or ArgumentException or InvalidOperationException)
        {
            throw new BadImageException($"cannot decode image ({e.GetType().Name}: {e.Message})", e);
        }
        using var _ = image;
        image.Mutate(x => x.AutoOrient());
        var outcome = CropOutcome.NotRequested;
        if (crop)
        {
            var rect = box is { } b ? BoxCrop.Rectangle(b, margin, image.Width, image.Height) : null;
            outcome = box is null ? CropOutcome.NoBox : rect is null ? CropOutcome.BadBox : CropOutcome.Cropped;
            if (rect is { } r) image.Mutate(x => x.Crop(new Rectangle(r.X, r.Y, r.Width, r.Height)));
        }
        image.Mutate(x => x
            .Resize(new ResizeOptions
            {
                Size = new Size(Size, Size),
                Mode = Resize == SquareResize.Squash ? ResizeMode.Stretch : ResizeMode.Pad,
                PadColor = Color.Black,
                Sampler = Resample == Resample.Bilinear ? KnownResamplers.Triangle : KnownResamplers.Bicubic,
            }));
        if (image.Width != Size || image.Height != Size)
            throw new InvalidOperationException($"resize produced {image.Width}x{image.Height}, expected {Size}x{Size}");

        var result = new byte[ImageBytes];
        image.CopyPixelDataTo(result);
        if (Grayscale) ToGray(result);
        return (result, outcome);
    }

    static void ToGray(Span<byte> rgb)
    {
        for (int i = 0; i < rgb.Length; i += 3)
        {
            byte y = (byte)Math.Clamp((int)Math.Round(0.299 * rgb[i] + 0.587 * rgb[i + 1] + 0.114 * rgb[i + 2]), 0, 255);
            rgb[i] = rgb[i + 1] = rgb[i + 2] = y;
        }
    }
}
