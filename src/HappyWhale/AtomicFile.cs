using System.Text;

namespace HappyWhale;

/// <summary>Replaces a file through a temporary file and a rename, so a reader sees the old or the new content, never a mix.</summary>
public static class AtomicFile
{
    static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

    /// <summary>Writes <paramref name="content"/> as UTF-8 without a BOM.</summary>
    /// <param name="durable">fsync the temporary file before the rename (state that must survive a power cut).</param>
    /// <param name="tempDirectory">Where the dotted temporary file lives (default: the target's folder); it must be on the same volume.</param>
    public static void Write(string path, string content, bool durable = false, string? tempDirectory = null)
    {
        var dir = tempDirectory ?? Path.GetDirectoryName(Path.GetFullPath(path))!;
        var temp = Path.Combine(dir, "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N") + ".tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                stream.Write(Utf8.GetBytes(content));
                if (durable) stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
