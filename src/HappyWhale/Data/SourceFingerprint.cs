using System.Security.Cryptography;
using System.Text;

namespace HappyWhale.Data;

/// <summary>
/// Identifies the contents of an external data folder without reading every image: each image's
/// relative path, size and modification time, plus the content hash of every CSV (labels, boxes).
/// </summary>
public static class SourceFingerprint
{
    public static string Compute(string root)
    {
        if (!Directory.Exists(root)) throw new UserException($"data folder not found: {root}");
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var files = FileTree.Files(root)
            .Select(f => (Full: f, Rel: Path.GetRelativePath(root, f).Replace('\\', '/')))
            .Where(f => !f.Rel.StartsWith('.'))
            .OrderBy(f => f.Rel, StringComparer.Ordinal);
        foreach (var (full, rel) in files)
        {
            var info = new FileInfo(full);
            string line = rel.EndsWith(".csv", StringComparison.OrdinalIgnoreCase)
                ? $"{rel}\t{info.Length}\t{FileHash.Sha256Hex(full)}\n"
                : $"{rel}\t{info.Length}\t{info.LastWriteTimeUtc.Ticks}\n";
            sha.AppendData(Encoding.UTF8.GetBytes(line));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
