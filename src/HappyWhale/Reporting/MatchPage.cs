using System.Globalization;
using System.Net;
using System.Text;
using HappyWhale.Evaluation;
using HappyWhale.Pipeline;
using HappyWhale.Data;

namespace HappyWhale.Reporting;

/// <summary>
/// matches.html: one row per photo, the photo then its ranked answers side by side, each with the thumbnail of
/// the gallery photo of that individual that matched best, its id and its similarity, so a person can confirm a
/// match by eye. Thumbnails are JPEG files under thumbs/ next to the page (the folder moves as a whole).
/// </summary>
public static class MatchPage
{
    public const string FileName = "matches.html";
    public const int ThumbnailSize = 128;

    public static string Write(string folder, Predictions predictions)
    {
        var thumbs = new Thumbnails(ThumbnailSize);
        int columns = predictions.Photos.Count == 0 ? MapAt5.Cutoff : predictions.Photos.Max(p => p.Matches.Count);
        var html = new StringBuilder();
        html.Append("""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            """);
        html.Append($"<title>HappyWhale predictions: {E(predictions.Experiment)}</title>\n");
        html.Append("""
            <style>
            body { font-family: sans-serif; margin: 1.5em; color: #222; }
            table { border-collapse: collapse; }
            th, td { border: 1px solid #ccc; padding: 4px; text-align: center; vertical-align: top; font-size: 12px; }
            td.photo { background: #eef3fb; }
            td.new { background: #f4f4f4; color: #555; width: 128px; }
            img { display: block; width: 128px; height: 128px; margin: 0 auto 2px; }
            .id { font-weight: bold; word-break: break-all; max-width: 128px; }
            .sim { color: #444; }
            .name { word-break: break-all; max-width: 128px; }
            </style></head><body>
            """);
        html.Append($"<h1>Who is in these photos? <code>{E(predictions.Experiment)}</code></h1>\n");
        html.Append(CultureInfo.InvariantCulture, $"<p>{predictions.Photos.Count} photo(s) from <code>{E(predictions.PhotosDescription)}</code>, ranked against " +
                    $"{predictions.GalleryImages} gallery photo(s) of {predictions.GalleryIndividuals} individual(s) from <code>{E(predictions.GalleryDescription)}</code> " +
                    $"by cosine similarity of the embeddings{(predictions.BlendLogits > 0 ? $", blended with the ArcFace head's class probabilities (weight {predictions.BlendLogits:0.##})" : "")}. " +
                    $"<b>new_individual</b> goes in at the first rank whose similarity is below {predictions.Threshold:F2}, the threshold tuned on the validation fold. " +
                    $"Each answer shows the gallery photo of that individual that matched best. Model(s): {E(string.Join("; ", predictions.Models))}.</p>\n");
        html.Append("<table>\n<tr><th>photo</th>");
        for (int c = 1; c <= columns; c++) html.Append(CultureInfo.InvariantCulture, $"<th>{c}</th>");
        html.Append("</tr>\n");
        foreach (var photo in predictions.Photos)
        {
            html.Append($"<tr><td class=\"photo\"><img src=\"{E(thumbs.File(folder, photo.Original))}\" alt=\"{E(photo.Image)}\"><div class=\"name\">{E(photo.Image)}</div></td>");
            foreach (var m in photo.Matches)
            {
                string sim = PredictionsCsv.Format(m.Similarity);
                if (m.Id == NewIndividual.Id)
                    html.Append($"<td class=\"new\"><div class=\"id\">new_individual</div><div class=\"sim\">no match at or above {sim}</div></td>");
                else if (m.Photo is { } g)
                    html.Append($"<td><img src=\"{E(thumbs.File(folder, g.Original))}\" alt=\"{E(g.Image)}\" title=\"{E(g.Image)}\"><div class=\"id\">{E(m.Id)}</div><div class=\"sim\">{sim}</div></td>");
                else
                    html.Append($"<td><div class=\"id\">{E(m.Id)}</div><div class=\"sim\">{sim}</div></td>");
            }
            html.Append("</tr>\n");
        }
        html.Append("</table>\n</body></html>\n");
        string path = Path.Combine(folder, FileName);
        File.WriteAllText(path, html.ToString(), new UTF8Encoding(false));
        return path;
    }

    static string E(string text) => WebUtility.HtmlEncode(text);
}
