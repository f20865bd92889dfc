namespace HappyWhale.Data;

/// <summary>A CSV input that cannot be read as intended, pointing at the file and 1-based line.</summary>
public sealed class CsvFormatException : FormatException
{
    public string File { get; }
    public int Line { get; }

    public CsvFormatException(string file, int line, string problem)
        : base(line > 0 ? $"{file}:{line}: {problem}" : $"{file}: {problem}")
    {
        File = file;
        Line = line;
    }
}
