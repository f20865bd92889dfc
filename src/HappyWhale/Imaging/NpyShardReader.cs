using System.IO.MemoryMappedFiles;

namespace HappyWhale.Imaging;

/// <summary>
/// A (N, H, W, C) uint8 .npy shard opened through a read-only memory map: the operating system pages
/// images in on demand, so memory does not grow with the shard size.
/// </summary>
public sealed unsafe class NpyShardReader : IDisposable
{
    readonly MemoryMappedFile file;
    readonly MemoryMappedViewAccessor view;
    readonly byte* basePointer;
    bool disposed;

    public NpyShardReader(string path)
    {
        using (var stream = File.OpenRead(path)) Header = NpyHeader.Read(stream, path);
        if (Header.Descr is not ("|u1" or "<u1" or "u1")) throw new InvalidDataException($"{path}: dtype {Header.Descr}, expected |u1");
        if (Header.FortranOrder) throw new InvalidDataException($"{path}: Fortran order not supported");
        if (Header.Shape.Count != 4) throw new InvalidDataException($"{path}: shape ({string.Join(", ", Header.Shape)}), expected (N, H, W, C)");
        long expected = Header.DataOffset + Header.ElementCount;
        long actual = new FileInfo(path).Length;
        if (actual < expected) throw new InvalidDataException($"{path}: {actual} bytes, header promises {expected}");

        Count = (int)Header.Shape[0];
        Height = (int)Header.Shape[1];
        Width = (int)Header.Shape[2];
        Channels = (int)Header.Shape[3];
        file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        view = file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* p = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        basePointer = p + view.PointerOffset;
    }

    public NpyHeader Header { get; }
    public int Count { get; }
    public int Height { get; }
    public int Width { get; }
    public int Channels { get; }
    public int ImageBytes => Height * Width * Channels;

    /// <summary>The bytes of image <paramref name="index"/> (H x W x C), valid until the reader is disposed.</summary>
    public ReadOnlySpan<byte> Image(int index)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), $"image {index} of {Count}");
        return new ReadOnlySpan<byte>(basePointer + Header.DataOffset + (long)index * ImageBytes, ImageBytes);
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        view.SafeMemoryMappedViewHandle.ReleasePointer();
        view.Dispose();
        file.Dispose();
    }
}
