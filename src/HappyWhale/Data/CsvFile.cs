namespace HappyWhale.Data;

/// <summary>
/// Reads the plain comma-separated files of the Kaggle layout (no quoting: names and ids hold no commas).
/// The header must match exactly; every error names the file and the 1-based line.
/// </summary>
public static class CsvFile
{
    public static IEnumerable<(int Line, string[] Fields)> Read(string path, params string[] expectedHeader) =>
        Read(path, expectedHeader, []);

    /// <summary>As above, but the columns in <paramref name="mayBeEmpty"/> may hold empty fields.</summary>
    public static IEnumerable<(int Line, string[] Fields)> Read(string path, string[] expectedHeader, IReadOnlyCollection<string> mayBeEmpty)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found", path);
        using var reader = new StreamReader(path);
        string? header = reader.ReadLine();
        string expected = string.Join(',', expectedHeader);
        if (header is null) throw new InvalidDataException($"{path}:1: empty file, expected header '{expected}'");
        header = header.TrimStart('\uFEFF').TrimEnd('\r');
        if (header != expected)
            throw new InvalidDataException($"{path}:1: header is '{header}', expected '{expected}'");

        int line = 1;
        for (string? text = reader.ReadLine(); text is not null; text = reader.ReadLine())
        {
            line++;
            text = text.TrimEnd('\r');
            if (text.Length == 0) continue;
            var fields = text.Split(',');
            if (fields.Length != expectedHeader.Length)
                throw new InvalidDataException($"{path}:{line}: {fields.Length} fields, expected {expectedHeader.Length} ({expected})");
            for (int i = 0; i < fields.Length; i++)
            {
                fields[i] = fields[i].Trim();
                if (fields[i].Length == 0 && !mayBeEmpty.Contains(expectedHeader[i]))
                    throw new InvalidDataException($"{path}:{line}: empty {expectedHeader[i]}");
            }
            yield return (line, fields);
        }
    }
}
