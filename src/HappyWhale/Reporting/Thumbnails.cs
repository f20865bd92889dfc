using HappyWhale.Data;
using HappyWhale.Experiments;
using HappyWhale.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;

namespace HappyWhale.Reporting;

/// <summary>
/// Square thumbnails of original photos (letterboxed, EXIF orientation applied): pixels for the contact sheet,
/// or JPEG files under thumbs/ for the page, each photo's file written once however many photos it matches.
/// </summary>
public sealed class Thumbnails(int size)
{
    readonly Dictionary<string, string> _files = new(StringComparer.Ordinal);
    readonly ImagePreparer _preparer = new(size, SquareResize.Letterbox, false);

    public int Size { get; } = size;

    /// <summary>size x size x 3 RGB bytes of the photo.</summary>
    public byte[] Pixels(SourceImage photo)
    {
        using var stream = photo.Open();
        return _preparer.Prepare(stream);
    }

    /// <summary>The photo's thumbnail file under <paramref name="folder"/>/thumbs/, written once; returns its path relative to the folder.</summary>
    public string File(string folder, SourceImage photo)
    {
        if (_files.TryGetValue(photo.Location, out var rel)) return rel;
        rel = $"thumbs/{_files.Count:D5}.jpg";
        string path = Path.Combine(folder, rel);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var image = Image.LoadPixelData<Rgb24>(Pixels(photo), Size, Size);
        image.SaveAsJpeg(path, new JpegEncoder { Quality = 85 });
        return _files[photo.Location] = rel;
    }
}
