using System.Globalization;
using HappyWhale.Evaluation;
using HappyWhale.Imaging;
using HappyWhale.Pipeline;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using HappyWhale.Data;
using HappyWhale.Data.Synthetic;

namespace HappyWhale.Reporting;

/// <summary>
/// matches.png: a contact sheet of the first photos, one row each: the photo (framed in blue, its name under it),
/// then its ranked answers, each the best-matching gallery photo of that individual labelled with the id and the
/// similarity (new_individual is a grey cell), in the built-in pixel font.
/// </summary>
public static class MatchSheet
{
    public const string FileName = "matches.png";
    const int Cell = 96, LabelHeight = 22, Gap = 4, Frame = 2;

    /// <returns>the path written, or null when <paramref name="rows"/> is 0 or there are no photos.</returns>
    public static string? Write(string folder, Predictions predictions, int rows)
    {
        var photos = predictions.Photos.Take(rows).ToList();
        if (photos.Count == 0) return null;
        var thumbs = new Thumbnails(Cell);
        int columns = 1 + photos.Max(p => p.Matches.Count);
        int width = Gap + columns * (Cell + Gap) + Gap, height = Gap + photos.Count * (Cell + LabelHeight + Gap);
        var sheet = new byte[width * height * 3];
        Array.Fill(sheet, (byte)24);
        for (int r = 0; r < photos.Count; r++)
        {
            int y = Gap + r * (Cell + LabelHeight + Gap);
            var photo = photos[r];
            Fill(sheet, width, Gap, y - Frame, Cell + 2 * Frame, Cell + 2 * Frame, (70, 130, 220));
            Blit(sheet, width, thumbs.Pixels(photo.Original), Gap + Frame, y);
            Label(sheet, width, height, Gap + Frame, y + Cell + 3, photo.Image, (150, 200, 255));
            for (int c = 0; c < photo.Matches.Count; c++)
            {
                var m = photo.Matches[c];
                int x = Gap + Frame * 2 + (c + 1) * (Cell + Gap);
                string similarity = PredictionsCsv.Format(m.Similarity);
                if (m.Id == NewIndividual.Id)
                {
                    Fill(sheet, width, x, y, Cell, Cell, (60, 60, 66));
                    PixelFont.Draw(sheet, width, height, x + (Cell - PixelFont.Width("NEW", 2)) / 2, y + Cell / 2 - 12, "NEW", (230, 230, 230), scale: 2);
                    PixelFont.Draw(sheet, width, height, x + 4, y + Cell / 2 + 6, "BELOW " + similarity, (200, 200, 200));
                    Label(sheet, width, height, x, y + Cell + 3, NewIndividual.Id, (255, 255, 255));
                    continue;
                }
                if (m.Photo is { } g) Blit(sheet, width, thumbs.Pixels(g.Original), x, y);
                else Fill(sheet, width, x, y, Cell, Cell, (40, 40, 40));
                Label(sheet, width, height, x, y + Cell + 3, m.Id, (255, 255, 255));
                Label(sheet, width, height, x, y + Cell + 12, string.Create(CultureInfo.InvariantCulture, $"{c + 1}: {similarity}"), (255, 220, 120));
            }
        }
        string path = Path.Combine(folder, FileName);
        using var image = Image.LoadPixelData<Rgb24>(sheet, width, height);
        // A palette keeps the sheet small (the photos' noise defeats PNG filters), as ContactSheet does.
        image.SaveAsPng(path, new PngEncoder { ColorType = PngColorType.Palette });
        return path;
    }

    static void Blit(byte[] sheet, int width, byte[] pixels, int x, int y)
    {
        for (int r = 0; r < Cell; r++) Array.Copy(pixels, r * Cell * 3, sheet, ((y + r) * width + x) * 3, Cell * 3);
    }

    static void Fill(byte[] sheet, int width, int x, int y, int w, int h, (byte R, byte G, byte B) colour)
    {
        for (int r = Math.Max(0, y); r < y + h; r++)
            for (int c = x; c < x + w; c++)
            {
                int i = (r * width + c) * 3;
                sheet[i] = colour.R;
                sheet[i + 1] = colour.G;
                sheet[i + 2] = colour.B;
            }
    }

    static void Label(byte[] sheet, int width, int height, int x, int y, string text, (byte, byte, byte) colour)
    {
        int max = (Cell + 1) / PixelFont.Advance;
        PixelFont.Draw(sheet, width, height, x + 1, y, text.Length <= max ? text : text[..(max - 1)] + ".", colour);
    }
}
