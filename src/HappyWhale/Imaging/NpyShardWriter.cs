namespace HappyWhale.Imaging;

/// <summary>
/// Appends H x W x 3 uint8 images to one .npy shard of shape (N, H, W, 3), C order. The header is
/// written with room to spare and rewritten with the final N on dispose.
/// </summary>
public sealed class NpyShardWriter : IDisposable
{
    public const string Descr = "|u1";
    const int HeaderRoom = 128;

    readonly FileStream stream;
    bool disposed;

    public NpyShardWriter(string path, int height, int width, int channels = 3)
    {
        Height = height; Width = width; Channels = channels;
        stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        stream.Write(NpyHeader.Encode(Descr, Shape(0), HeaderRoom));
    }

    public int Height { get; }
    public int Width { get; }
    public int Channels { get; }
    public int Count { get; private set; }
    public int ImageBytes => Height * Width * Channels;

    public void Append(ReadOnlySpan<byte> image)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (image.Length != ImageBytes) throw new ArgumentException($"image has {image.Length} bytes, expected {ImageBytes} ({Height}x{Width}x{Channels})");
        stream.Write(image);
        Count++;
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        var header = NpyHeader.Encode(Descr, Shape(Count), HeaderRoom);
        if (header.Length != HeaderRoom) throw new InvalidOperationException("npy header outgrew its room");
        stream.Position = 0;
        stream.Write(header);
        stream.Dispose();
    }

    long[] Shape(int n) => [n, Height, Width, Channels];
}
