using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace HappyWhale.Imaging;

/// <summary>How a photo becomes a square: stretched to fill it, or scaled to fit and padded with black.</summary>
public enum SquareResize { Squash, Letterbox }

/// <summary>
/// Decodes a photo (JPEG, PNG, ... anything ImageSharp reads), applies its EXIF orientation, resizes it
/// to a size x size square and returns the pixels as H x W x 3 bytes, row-major. Grayscale stores the
/// luma (BT.601) in all three channels.
/// </summary>
public sealed record ImagePreparer(int Size, SquareResize Resize, bool Grayscale)
{
    public static SquareResize ParseResize(string mode) => mode.ToLowerInvariant() switch
    {
        "squash" => SquareResize.Squash,
        "letterbox" => SquareResize.Letterbox,
        _ => throw new ArgumentException($"resize mode '{mode}' is not squash or letterbox", nameof(mode)),
    };

    public int ImageBytes => Size * Size * 3;

    public byte[] Prepare(string path)
    {
        using var stream = File.OpenRead(path);
        try { return Prepare(stream); }
        catch (Exception e) when (e is UnknownImageFormatException or InvalidImageContentException)
        {
            throw new InvalidDataException($"{path}: cannot decode image ({e.Message})", e);
        }
    }

    public byte[] Prepare(Stream stream)
    {
        using var image = Image.Load<Rgb24>(stream);
        image.Mutate(x => x
            .AutoOrient()
            .Resize(new ResizeOptions
            {
                Size = new Size(Size, Size),
                Mode = Resize == SquareResize.Squash ? ResizeMode.Stretch : ResizeMode.Pad,
                PadColor = Color.Black,
                Sampler = KnownResamplers.Bicubic,
            }));
        if (image.Width != Size || image.Height != Size)
            throw new InvalidOperationException($"resize produced {image.Width}x{image.Height}, expected {Size}x{Size}");

        var pixels = new byte[ImageBytes];
        image.CopyPixelDataTo(pixels);
        if (Grayscale) ToGray(pixels);
        return pixels;
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
