using System.Security.Cryptography;

namespace HappyWhale;

/// <summary>Content hashes of files: cache manifests, source fingerprints and weights files all use this one.</summary>
public static class FileHash
{
    /// <summary>Lower-case hex SHA-256 of the file's bytes, streamed.</summary>
    public static string Sha256Hex(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
