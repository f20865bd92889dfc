using System.Globalization;

namespace HappyWhale.Data;

/// <summary>A detector's box in image pixels (x1, y1 exclusive), after EXIF orientation, with its confidence (1 when absent).</summary>
public readonly record struct Box(double X0, double Y0, double X1, double Y1, double Confidence = 1);

/// <summary>
/// Boxes read from one or more CSVs (image,x0,y0,x1,y1[,confidence], as Detic/YOLO crops are shared):
/// for each image the first file that has a row for it wins; within a file the most confident row wins.
/// Bad rows (not numbers) are reported as <see cref="BadItem"/>s; files that do not exist are skipped.
/// </summary>
public sealed class BoxTable
{
    internal static readonly string[] Header = ["image", "x0", "y0", "x1", "y1"];
    static readonly string[] HeaderWithConfidence = ["image", "x0", "y0", "x1", "y1", "confidence"];
    readonly Dictionary<string, Box> _boxes = new(StringComparer.Ordinal);

    public IReadOnlyList<string> Files { get; private init; } = [];

    public bool TryGet(string image, out Box box) => _boxes.TryGetValue(image, out box);

    public static BoxTable Read(IEnumerable<string> paths, List<BadItem> problems)
    {
        var files = paths.ToList();
        var table = new BoxTable { Files = files };
        foreach (var path in files)
        {
            var fromThisFile = new Dictionary<string, Box>(StringComparer.Ordinal);
            foreach (var (line, f) in CsvFile.ReadChecked(path, Header, [], problems, HeaderWithConfidence))
            {
                var numbers = new double[f.Length - 1];
                int bad = -1;
                for (int i = 1; i < f.Length && bad < 0; i++)
                    if (!double.TryParse(f[i], NumberStyles.Float, CultureInfo.InvariantCulture, out numbers[i - 1])) bad = i;
                if (bad >= 0)
                {
                    problems.Add(new BadItem(path, line, $"{HeaderWithConfidence[bad]} '{f[bad]}' is not a number"));
                    continue;
                }
                var box = new Box(numbers[0], numbers[1], numbers[2], numbers[3], numbers.Length > 4 ? numbers[4] : 1);
                if (!fromThisFile.TryGetValue(f[0], out var seen) || box.Confidence > seen.Confidence) fromThisFile[f[0]] = box;
            }
            foreach (var (image, box) in fromThisFile) table._boxes.TryAdd(image, box);
        }
        return table;
    }
}

/// <summary>The crop a box gives: enlarged about its centre by the margin, clipped to the image, whole pixels.</summary>
public static class BoxCrop
{
    /// <summary>(x, y, width, height) of the crop, or null when the box is empty or lies outside the image.</summary>
    public static (int X, int Y, int Width, int Height)? Rectangle(Box box, double margin, int imageWidth, int imageHeight)
    {
        if (!(box.X1 > box.X0 && box.Y1 > box.Y0) || double.IsNaN(margin)) return null;
        double cx = (box.X0 + box.X1) / 2, cy = (box.Y0 + box.Y1) / 2;
        double hw = (box.X1 - box.X0) / 2 * margin, hh = (box.Y1 - box.Y0) / 2 * margin;
        int x0 = (int)Math.Clamp(Math.Floor(cx - hw), 0, imageWidth), x1 = (int)Math.Clamp(Math.Ceiling(cx + hw), 0, imageWidth);
        int y0 = (int)Math.Clamp(Math.Floor(cy - hh), 0, imageHeight), y1 = (int)Math.Clamp(Math.Ceiling(cy + hh), 0, imageHeight);
        if (x1 - x0 < 1 || y1 - y0 < 1) return null;
        return (x0, y0, x1 - x0, y1 - y0);
    }
}
