using System.Text;

namespace HappyWhale.Data;

/// <summary>
/// The one reader (and writer) of the plain comma-separated files of the Kaggle layout (no quoting: names and ids hold
/// no commas). <see cref="Read"/> wants an exact header, <see cref="ReadChecked"/> lists bad rows instead of stopping,
/// <see cref="ReadTable"/> finds columns by name (submissions, label files); every error names the file and the 1-based line.
/// </summary>
public static class CsvFile
{
    /// <summary>
    /// Why a name cannot be a field of these files (a comma, a double quote or a line break would split or
    /// break the row of index.csv and of a submission), or null when it can.
    /// </summary>
    public static string? UnsafeField(string name) =>
        name.Contains(',') ? "a comma"
        : name.Contains('"') ? "a double quote"
        : name.Contains('\n') || name.Contains('\r') ? "a line break"
        : null;

    /// <summary>
    /// As <see cref="UnsafeField"/>, plus whitespace: image names and individual ids, which a submission row
    /// ("image,id id id id id") separates by spaces.
    /// </summary>
    public static string? UnsafeName(string name) => UnsafeField(name) ?? (name.Any(char.IsWhiteSpace) ? "whitespace" : null);

    /// <summary>A name as it can be printed on one line of a message.</summary>
    public static string Printable(string name) => name.Replace("\r", "\\r").Replace("\n", "\\n");

    /// <summary>Writes a header and rows, each ended by '\n', as UTF-8 without a BOM (the layout the readers expect).</summary>
    public static void Write(string path, IReadOnlyList<string> header, IEnumerable<string> rows)
    {
        var text = new StringBuilder(string.Join(',', header)).Append('\n');
        foreach (var row in rows) text.Append(row).Append('\n');
        File.WriteAllText(path, text.ToString(), new UTF8Encoding(false));
    }

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

    /// <summary>
    /// Header fields, then each non-blank data line as (1-based line number, fields), for files whose columns are found by
    /// name (<see cref="Column"/>). A double quote is an error rather than half-supported quoting.
    /// </summary>
    /// <exception cref="CsvFormatException">a quote, or no header.</exception>
    public static (string[] Header, List<(int Line, string[] Fields)> Rows) ReadTable(string path)
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

    /// <summary>The index of column <paramref name="name"/> (any case) in a <see cref="ReadTable"/> header.</summary>
    public static int Column(string path, string[] header, string name)
    {
        int i = Array.FindIndex(header, h => string.Equals(h, name, StringComparison.OrdinalIgnoreCase));
        if (i < 0)
            throw new CsvFormatException(path, 1, $"header '{string.Join(',', header)}' has no '{name}' column");
        return i;
    }

    /// <summary>
    /// Lenient reading for data.on_bad_image: rows with the wrong number of fields or an empty required
    /// field are added to <paramref name="problems"/> and left out; a missing file or a wrong header is a
    /// fatal problem and yields nothing. <paramref name="alternativeHeaders"/> are other accepted headers
    /// (e.g. with an optional last column); a row may have as many fields as the header found.
    /// </summary>
    public static List<(int Line, string[] Fields)> ReadChecked(string path, string[] expectedHeader, IReadOnlyCollection<string> mayBeEmpty,
        List<BadItem> problems, params string[][] alternativeHeaders)
    {
        var result = new List<(int, string[])>();
        if (!File.Exists(path)) { problems.Add(new BadItem(path, null, "file not found", Fatal: true)); return result; }
        using var reader = new StreamReader(path);
        string? header = reader.ReadLine()?.TrimStart('\uFEFF').TrimEnd('\r');
        var accepted = new[] { expectedHeader }.Concat(alternativeHeaders).ToList();
        string expected = string.Join(" or ", accepted.Select(h => "'" + string.Join(',', h) + "'"));
        if (header is null) { problems.Add(new BadItem(path, 1, $"empty file, expected header {expected}", Fatal: true)); return result; }
        var columns = accepted.FirstOrDefault(h => string.Join(',', h) == header);
        if (columns is null)
        {
            var names = header.Split(',').Select(h => h.Trim()).ToList();
            var missing = expectedHeader.Where(h => !names.Contains(h)).ToList();
            var extra = names.Where(n => !accepted.Any(h => h.Contains(n))).ToList();
            string detail = string.Join("; ", new[]
            {
                missing.Count > 0 ? $"missing column(s) {string.Join(", ", missing)}" : "",
                extra.Count > 0 ? $"extra column(s) {string.Join(", ", extra.Select(e => e.Length == 0 ? "(empty name)" : e))}" : "",
            }.Where(d => d.Length > 0));
            if (detail.Length == 0) detail = names.Count == names.Distinct().Count() ? "columns in the wrong order" : "a column named twice";
            problems.Add(new BadItem(path, 1, $"header is '{header}', expected {expected} ({detail})", Fatal: true));
            return result;
        }
        int line = 1;
        for (string? text = reader.ReadLine(); text is not null; text = reader.ReadLine())
        {
            line++;
            text = text.TrimEnd('\r');
            if (text.Trim().Length == 0) continue;
            var fields = text.Split(',');
            if (fields.Length != columns.Length)
            {
                problems.Add(new BadItem(path, line, $"{fields.Length} field(s), expected {columns.Length} ({string.Join(',', columns)})"));
                continue;
            }
            string? empty = null;
            for (int i = 0; i < fields.Length; i++)
            {
                fields[i] = fields[i].Trim();
                if (fields[i].Length == 0 && !mayBeEmpty.Contains(columns[i])) empty ??= columns[i];
            }
            if (empty is not null) { problems.Add(new BadItem(path, line, $"empty {empty}")); continue; }
            result.Add((line, fields));
        }
        return result;
    }
}
