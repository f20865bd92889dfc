using System.Globalization;
using HappyWhale.Data;
using HappyWhale.Pipeline;

namespace HappyWhale.Reporting;

/// <summary>
/// predictions.csv: image,predictions,similarities. predictions is the Kaggle submission's space-separated
/// ids, best first; similarities the matching space-separated scores (new_individual carries the threshold
/// it was inserted at, a filler id that no neighbour backs carries nan).
/// </summary>
public static class PredictionsCsv
{
    public const string FileName = "predictions.csv";
    public static readonly string[] Header = ["image", "predictions", "similarities"];

    public static string Write(string folder, Predictions predictions)
    {
        string path = Path.Combine(folder, FileName);
        CsvFile.Write(path, Header, predictions.Photos.Select(p =>
            $"{p.Image},{string.Join(' ', p.Matches.Select(m => m.Id))},{string.Join(' ', p.Matches.Select(m => Format(m.Similarity)))}"));
        return path;
    }

    public static string Format(float similarity) =>
        float.IsNaN(similarity) ? "nan" : similarity.ToString("F4", CultureInfo.InvariantCulture);
}
