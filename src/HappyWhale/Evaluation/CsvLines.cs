namespace HappyWhale.Evaluation;

/// <summary>
/// Minimal reader for the competition's CSVs. They never quote fields (image names and ids contain no
/// commas), so a quote is reported as an error rather than half-supported.
/// </summary>
internal static class CsvLines
{
    /// <summary>Header fields, then each non-blank data line as (1-based line number, fields).</summary>
    public static (string[] Header, List<(int Line, string[] Fields)> Rows) Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: file not found", path);

        string[]? header = null;
        var rows = new List<(int, string[])>();
        int lineNo = 0;
        // File.ReadLines strips a UTF-8 BOM and both \n and \r\n endings.
        foreach (var raw in File.ReadLines(path))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(raw)) continue;
            if (raw.Contains('"'))
                throw new CsvFormatException(path, lineNo, "quoted fields are not expected in this file");
            var fields = raw.Split(',').Select(f => f.Trim()).ToArray();
            if (header is null) header = fields;
            else rows.Add((lineNo, fields));
        }
        if (header is null)
            throw new CsvFormatException(path, 0, "file is empty (no header)");
        return (header, rows);
    }

    public static int Column(string path, string[] header, string name)
    {
        int i = Array.FindIndex(header, h => string.Equals(h, name, StringComparison.OrdinalIgnoreCase));
        if (i < 0)
            throw new CsvFormatException(path, 1, $"header '{string.Join(',', header)}' has no '{name}' column");
        return i;
    }
}
