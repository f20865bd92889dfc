using System.Diagnostics;
using HappyWhale.Imaging;

namespace HappyWhale.Tests.Imaging;

public class NpyShardTests
{
    static byte[] Pattern(int image, int bytes) => Enumerable.Range(0, bytes).Select(i => (byte)(i * 7 + image * 31)).ToArray();

    [Fact]
    public void Header_round_trips_and_data_is_64_byte_aligned()
    {
        using var dir = new TempFolder();
        string path = dir.Combine("shard.npy");
        using (var writer = new NpyShardWriter(path, 5, 4))
            for (int i = 0; i < 3; i++) writer.Append(Pattern(i, 5 * 4 * 3));

        using var stream = File.OpenRead(path);
        var header = NpyHeader.Read(stream, path);
        Assert.Equal("|u1", header.Descr);
        Assert.False(header.FortranOrder);
        Assert.Equal([3L, 5, 4, 3], header.Shape);
        Assert.Equal(0, header.DataOffset % 64);
        Assert.Equal(header.DataOffset + 3 * 60, new FileInfo(path).Length);
        var text = System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(path), 10, header.DataOffset - 10);
        Assert.EndsWith("\n", text);
        Assert.StartsWith("{'descr': '|u1', 'fortran_order': False, 'shape': (3, 5, 4, 3), }", text);
    }

    [Fact]
    public void Reader_returns_the_written_images()
    {
        using var dir = new TempFolder();
        string path = dir.Combine("shard.npy");
        using (var writer = new NpyShardWriter(path, 6, 7))
            for (int i = 0; i < 4; i++) writer.Append(Pattern(i, 6 * 7 * 3));

        using var reader = new NpyShardReader(path);
        Assert.Equal((4, 6, 7, 3), (reader.Count, reader.Height, reader.Width, reader.Channels));
        for (int i = 0; i < 4; i++) Assert.Equal(Pattern(i, 126), reader.Image(i).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => reader.Image(4).ToArray());
    }

    [NumpyFact]
    public void Numpy_loads_the_shard_memory_mapped()
    {
        using var dir = new TempFolder();
        string path = dir.Combine("shard.npy");
        long sum = 0;
        using (var writer = new NpyShardWriter(path, 9, 8))
            for (int i = 0; i < 5; i++)
            {
                var image = Pattern(i, 9 * 8 * 3);
                sum += image.Sum(b => (long)b);
                writer.Append(image);
            }

        string output = PythonNumpy.Run(
            $"import numpy as np; a = np.load(r'{path}', mmap_mode='r'); " +
            "print(a.dtype, a.shape, int(a.astype(np.int64).sum()), int(a[2, 3, 4, 1]), a.flags['C_CONTIGUOUS'])");
        var expected = Pattern(2, 9 * 8 * 3)[(3 * 8 + 4) * 3 + 1];
        Assert.Equal($"uint8 (5, 9, 8, 3) {sum} {expected} True", output.Trim());
    }
}

/// <summary>A fact that is skipped, with the reason, when /usr/bin/python3 has no numpy.</summary>
public sealed class NumpyFactAttribute : FactAttribute
{
    public NumpyFactAttribute()
    {
        if (!PythonNumpy.Available) Skip = "/usr/bin/python3 with numpy is not installed (apt-get install python3-numpy)";
    }
}

/// <summary>Debian's /usr/bin/python3 with numpy, when present.</summary>
public static class PythonNumpy
{
    const string Python = "/usr/bin/python3";

    public static bool Available { get; } = File.Exists(Python) && TryRun("import numpy", out _);

    public static string Run(string code)
    {
        if (!TryRun(code, out var output)) throw new InvalidOperationException($"python failed: {output}");
        return output;
    }

    static bool TryRun(string code, out string output)
    {
        var info = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(code);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        output = stdout.Result + stderr;
        return process.ExitCode == 0;
    }
}
