using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Imaging;

/// <summary>
/// A prepared image set: a folder with shard-00000.npy, shard-00001.npy, ... (uint8, N x H x W x 3)
/// and index.csv. Shards are memory-mapped, so opening a set costs almost no memory whatever its size.
/// </summary>
public sealed class PreparedSet : IImageBatches, IDisposable
{
    readonly NpyShardReader[] shards;

    PreparedSet(string folder, List<PreparedRow> rows, NpyShardReader[] shards)
    {
        Folder = folder;
        Rows = rows;
        this.shards = shards;
        Height = shards.Length > 0 ? shards[0].Height : 0;
        Width = shards.Length > 0 ? shards[0].Width : 0;
    }

    public string Folder { get; }
    public IReadOnlyList<PreparedRow> Rows { get; }
    public int Count => Rows.Count;
    public int Height { get; }
    public int ImageSize => Height;
    public int Width { get; }
    public int ImageBytes => Height * Width * 3;

    public static PreparedSet Open(string folder)
    {
        var rows = PreparedIndex.Read(Path.Combine(folder, PreparedIndex.FileName));
        int shardCount = rows.Count == 0 ? 0 : rows.Max(r => r.Shard) + 1;
        var shards = new NpyShardReader[shardCount];
        try
        {
            for (int s = 0; s < shardCount; s++)
            {
                shards[s] = new NpyShardReader(Path.Combine(folder, PreparedIndex.ShardFileName(s)));
                if (shards[s].Channels != 3 || shards[s].Height != shards[0].Height || shards[s].Width != shards[0].Width)
                    throw new InvalidDataException($"{folder}/{PreparedIndex.ShardFileName(s)}: shard {s} does not match shard 0's image shape");
            }
            foreach (var r in rows)
                if (r.Offset < 0 || r.Offset >= shards[r.Shard].Count)
                    throw new InvalidDataException($"{folder}/{PreparedIndex.FileName}: row {r.Row} points past shard {r.Shard} ({shards[r.Shard].Count} images)");
        }
        catch
        {
            foreach (var s in shards) s?.Dispose();
            throw;
        }
        return new PreparedSet(folder, rows, shards);
    }

    /// <summary>The H x W x 3 bytes of one row, valid until the set is disposed.</summary>
    public ReadOnlySpan<byte> Image(int row)
    {
        var r = Rows[row];
        return shards[r.Shard].Image(r.Offset);
    }

    /// <summary>The given rows as a float32 tensor N x 3 x H x W with values in [0, 1], on the CPU.</summary>
    public Tensor ReadBatch(IReadOnlyList<int> rows)
    {
        int size = ImageBytes;
        var bytes = new byte[(long)rows.Count * size];
        for (int i = 0; i < rows.Count; i++) Image(rows[i]).CopyTo(bytes.AsSpan(i * size, size));

        using var scope = NewDisposeScope();
        var nhwc = tensor(bytes, [rows.Count, Height, Width, 3], ScalarType.Byte);
        var nchw = nhwc.permute(0, 3, 1, 2).to_type(ScalarType.Float32).div_(Scalars.Of(255.0)).contiguous();
        return nchw.MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        foreach (var s in shards) s.Dispose();
    }
}
