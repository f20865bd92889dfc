using System.Text;
using System.Text.RegularExpressions;

namespace HappyWhale.Imaging;

/// <summary>
/// The header of a NumPy .npy file, format version 1.0: magic "\x93NUMPY", version 1.0, a little-endian
/// uint16 header length, then a Python dict literal padded with spaces and ending in '\n' so that the
/// data starts at a multiple of 64 bytes (what numpy itself writes, and what mmap readers rely on).
/// </summary>
public sealed record NpyHeader(string Descr, bool FortranOrder, IReadOnlyList<long> Shape, int DataOffset)
{
    public const int Alignment = 64;
    static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>The header bytes for a C-order array, padded to at least <paramref name="minLength"/> bytes
    /// (a multiple of 64), so a header can later be rewritten in place with a larger shape.</summary>
    public static byte[] Encode(string descr, IReadOnlyList<long> shape, int minLength = 0)
    {
        string dims = shape.Count == 1 ? $"{shape[0]}," : string.Join(", ", shape);
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}";
        int total = Math.Max(minLength, 10 + dict.Length + 1);
        total = (total + Alignment - 1) / Alignment * Alignment;
        if (total - 10 > ushort.MaxValue) throw new InvalidOperationException("npy v1.0 header too long");
        var bytes = new byte[total];
        Magic.CopyTo(bytes, 0);
        bytes[6] = 1; bytes[7] = 0;
        bytes[8] = (byte)((total - 10) & 0xff);
        bytes[9] = (byte)((total - 10) >> 8);
        var text = dict.PadRight(total - 10 - 1) + "\n";
        Encoding.ASCII.GetBytes(text, 0, text.Length, bytes, 10);
        return bytes;
    }

    public static NpyHeader Read(Stream stream, string pathForErrors)
    {
        var fixedPart = new byte[10];
        stream.ReadExactly(fixedPart);
        if (!fixedPart.AsSpan(0, 6).SequenceEqual(Magic)) throw new InvalidDataException($"{pathForErrors}: not a .npy file");
        if (fixedPart[6] != 1) throw new InvalidDataException($"{pathForErrors}: npy version {fixedPart[6]}.{fixedPart[7]} not supported (1.0 only)");
        int length = fixedPart[8] | (fixedPart[9] << 8);
        var dictBytes = new byte[length];
        stream.ReadExactly(dictBytes);
        string dict = Encoding.ASCII.GetString(dictBytes);

        var descr = Regex.Match(dict, @"'descr':\s*'([^']*)'");
        var fortran = Regex.Match(dict, @"'fortran_order':\s*(True|False)");
        var shape = Regex.Match(dict, @"'shape':\s*\(([^)]*)\)");
        if (!descr.Success || !fortran.Success || !shape.Success)
            throw new InvalidDataException($"{pathForErrors}: malformed npy header {dict.Trim()}");
        var dims = shape.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(long.Parse).ToArray();
        return new NpyHeader(descr.Groups[1].Value, fortran.Groups[1].Value == "True", dims, 10 + length);
    }
}
