using HappyWhale.Data;

namespace HappyWhale.Evaluation;

/// <summary>
/// Reads a submission (<c>image,predictions</c>) and a labels file (<c>image,individual_id</c>, or
/// train.csv's <c>image,species,individual_id</c>). Reading is as lenient as Kaggle's scorer (extra
/// spaces between ids, any number of ids) and as strict about structure (one row per image).
/// </summary>
public static class SubmissionReader
{
    /// <summary>A data row together with the 1-based line it came from, for error messages.</summary>
    public readonly record struct Located<T>(T Value, int Line);

    public static IReadOnlyList<SubmissionRow> ReadSubmission(string path)
        => ReadSubmissionWithLines(path).Select(r => r.Value).ToList();

    public static IReadOnlyList<Located<SubmissionRow>> ReadSubmissionWithLines(string path)
    {
        var (header, rows) = CsvFile.ReadTable(path);
        if (header.Length != 2 || !header[0].Equals("image", StringComparison.OrdinalIgnoreCase)
            || !header[1].Equals("predictions", StringComparison.OrdinalIgnoreCase))
            throw new CsvFormatException(path, 1, $"header is '{string.Join(',', header)}', expected '{SubmissionFormat.Header}'");

        var firstLine = new Dictionary<string, int>(StringComparer.Ordinal);
        var result = new List<Located<SubmissionRow>>(rows.Count);
        foreach (var (line, fields) in rows)
        {
            if (fields.Length != 2)
                throw new CsvFormatException(path, line, $"{fields.Length} fields, expected 2 (image,predictions)");
            string image = fields[0];
            if (image.Length == 0)
                throw new CsvFormatException(path, line, "empty image name");
            if (firstLine.TryGetValue(image, out int earlier))
                throw new CsvFormatException(path, line, $"image '{image}' already appeared on line {earlier}");
            firstLine[image] = line;
            var ids = fields[1].Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (ids.Length == 0)
                throw new CsvFormatException(path, line, $"image '{image}' has no predictions");
            result.Add(new Located<SubmissionRow>(new SubmissionRow(image, ids), line));
        }
        return result;
    }

    public static IReadOnlyList<Located<KeyValuePair<string, string>>> ReadLabelsWithLines(string path)
    {
        var (header, rows) = CsvFile.ReadTable(path);
        int imageCol = CsvFile.Column(path, header, "image");
        int idCol = CsvFile.Column(path, header, "individual_id");

        var firstLine = new Dictionary<string, int>(StringComparer.Ordinal);
        var result = new List<Located<KeyValuePair<string, string>>>(rows.Count);
        foreach (var (line, fields) in rows)
        {
            if (fields.Length != header.Length)
                throw new CsvFormatException(path, line, $"{fields.Length} fields, header has {header.Length}");
            string image = fields[imageCol], id = fields[idCol];
            if (image.Length == 0) throw new CsvFormatException(path, line, "empty image name");
            if (id.Length == 0) throw new CsvFormatException(path, line, $"image '{image}' has an empty individual_id");
            if (firstLine.TryGetValue(image, out int earlier))
                throw new CsvFormatException(path, line, $"image '{image}' already appeared on line {earlier}");
            firstLine[image] = line;
            result.Add(new Located<KeyValuePair<string, string>>(new(image, id), line));
        }
        return result;
    }
}
