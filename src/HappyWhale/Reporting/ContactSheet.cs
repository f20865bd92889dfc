using HappyWhale.Data;
using HappyWhale.Experiments;
using HappyWhale.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using HappyWhale.Data.Synthetic;

namespace HappyWhale.Reporting;

/// <summary>
/// A contact sheet of a Kaggle-layout folder: a grid of training photos, each letterboxed into a cell
/// and labelled underneath with its individual id and species in the built-in pixel font.
/// Photos are taken two per individual (so re-identification can be judged by eye), individuals in id order.
/// </summary>
public static class ContactSheet
{
    public const int Cell = 120, LabelHeight = 22, Gap = 4;

    public static string Write(string kaggleFolder, string outputPath, int columns = 6, int rows = 4)
    {
        var source = new KaggleSource(kaggleFolder);
        var picks = source.ReadTrain()
            .GroupBy(s => s.IndividualId).OrderBy(g => g.Key, StringComparer.Ordinal)
            .SelectMany(g => g.Take(2)).Take(columns * rows).ToList();
        int width = columns * (Cell + Gap) + Gap, height = rows * (Cell + LabelHeight + Gap) + Gap;
        var sheet = new byte[width * height * 3];
        Array.Fill(sheet, (byte)24);
        var preparer = new ImagePreparer(Cell, SquareResize.Letterbox, false);
        for (int k = 0; k < picks.Count; k++)
        {
            int x = Gap + k % columns * (Cell + Gap), y = Gap + k / columns * (Cell + LabelHeight + Gap);
            var pixels = preparer.Prepare(source.TrainImagePath(picks[k].Image));
            for (int r = 0; r < Cell; r++)
                Array.Copy(pixels, r * Cell * 3, sheet, ((y + r) * width + x) * 3, Cell * 3);
            PixelFont.Draw(sheet, width, height, x + 1, y + Cell + 3, Fit(picks[k].IndividualId), (255, 255, 255));
            PixelFont.Draw(sheet, width, height, x + 1, y + Cell + 12, Fit(picks[k].Species), (150, 200, 255));
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outputPath))!);
        using var image = Image.LoadPixelData<Rgb24>(sheet, width, height);
        // A 256-colour palette keeps the sheet small enough to commit (the photos' sensor noise defeats PNG filters).
        image.SaveAsPng(outputPath, new PngEncoder { ColorType = PngColorType.Palette });
        return outputPath;
    }

    static string Fit(string text)
    {
        int max = (Cell - 2 + 1) / PixelFont.Advance;
        return text.Length <= max ? text : text[..(max - 1)] + ".";
    }
}
