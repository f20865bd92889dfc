using HappyWhale.Data;

namespace HappyWhale.Imaging;

/// <summary>
/// One image of a prepared set: its global row, the shard number (file shard-{shard:D5}.npy), its
/// offset along the shard's first axis, its labels and its subset (train or test).
/// </summary>
public sealed record PreparedRow(int Row, int Shard, int Offset, string Image, string Species, string IndividualId, string Subset)
{
    public Sample Sample => new(Image, Species, IndividualId);
}

/// <summary>index.csv of a prepared set: row,shard,offset,image,species,individual_id,subset.</summary>
public static class PreparedIndex
{
    public const string FileName = "index.csv";
    static readonly string[] Header = ["row", "shard", "offset", "image", "species", "individual_id", "subset"];

    public static string ShardFileName(int shard) => $"shard-{shard:D5}.npy";

    public static void Write(string path, IEnumerable<PreparedRow> rows)
    {
        CsvFile.Write(path, Header, rows.Select(r => $"{r.Row},{r.Shard},{r.Offset},{Field(r.Image)},{Field(r.Species)},{Field(r.IndividualId)},{r.Subset}"));
    }

    // Sources refuse such names; a row that would not read back must never reach the cache.
    static string Field(string name) => CsvFile.UnsafeField(name) is { } unsafeChar
        ? throw new InvalidOperationException($"'{CsvFile.Printable(name)}' holds {unsafeChar} and would break {FileName}; its source should have refused it")
        : name;

    public static List<PreparedRow> Read(string path)
    {
        var rows = new List<PreparedRow>();
        foreach (var (line, f) in CsvFile.Read(path, Header, ["species", "individual_id"]))
        {
            if (!int.TryParse(f[0], out int row) || !int.TryParse(f[1], out int shard) || !int.TryParse(f[2], out int offset))
                throw new InvalidDataException($"{path}:{line}: row, shard and offset must be integers");
            if (row != rows.Count) throw new InvalidDataException($"{path}:{line}: row {row}, expected {rows.Count}");
            rows.Add(new PreparedRow(row, shard, offset, f[3], f[4], f[5], f[6]));
        }
        return rows;
    }
}
