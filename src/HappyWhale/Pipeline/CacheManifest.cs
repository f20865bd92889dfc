using System.Text.Json;
using System.Text.Json.Nodes;

namespace HappyWhale.Pipeline;

/// <summary>One file of a cache entry as recorded in manifest.json.</summary>
public sealed record ManifestFile(string Path, long Size, string Sha256);

/// <summary>
/// manifest.json of a cache entry: what was computed from what, which files it holds, how long
/// it took. Written last, inside the temporary folder, so an entry without it never counts.
/// </summary>
public sealed record CacheManifest(
    string Stage,
    string Key,
    int Version,
    JsonObject Request,
    IReadOnlyList<ManifestFile> Files,
    DateTimeOffset Started,
    DateTimeOffset Finished,
    JsonObject Summary)
{
    public const string FileName = "manifest.json";
    static readonly JsonSerializerOptions Options = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public double Seconds => (Finished - Started).TotalSeconds;

    public static CacheManifest Build(StageRequest request, string folder, DateTimeOffset started, JsonObject summary)
    {
        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Select(f => System.IO.Path.GetRelativePath(folder, f).Replace('\\', '/'))
            .Where(f => f != FileName)
            .OrderBy(f => f, StringComparer.Ordinal)
            .Select(f => new ManifestFile(f, new FileInfo(System.IO.Path.Combine(folder, f)).Length, FileHash.Sha256Hex(System.IO.Path.Combine(folder, f))))
            .ToList();
        return new CacheManifest(request.Stage, request.Key, request.Version, request.KeyDocument(), files, started, DateTimeOffset.UtcNow, summary);
    }

    /// <summary>The manifest of an entry not computed yet (a deferred stage): no files, an empty summary.</summary>
    public static CacheManifest Pending(StageRequest request) =>
        new(request.Stage, request.Key, request.Version, request.KeyDocument(), [], default, default, new JsonObject());

    public void Write(string folder) => File.WriteAllText(System.IO.Path.Combine(folder, FileName), JsonSerializer.Serialize(this, Options));

    public static CacheManifest? TryRead(string folder)
    {
        string path = System.IO.Path.Combine(folder, FileName);
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<CacheManifest>(File.ReadAllText(path), Options); }
        catch (JsonException) { return null; }
    }

    /// <summary>
    /// An entry verifies when every listed file is there with its recorded size; with
    /// <paramref name="hashes"/> the content hashes are checked too (slow for large entries).
    /// </summary>
    public string? Verify(string folder, bool hashes)
    {
        foreach (var f in Files)
        {
            var info = new FileInfo(System.IO.Path.Combine(folder, f.Path));
            if (!info.Exists) return $"{f.Path} is missing";
            if (info.Length != f.Size) return $"{f.Path} has {info.Length} bytes, manifest says {f.Size}";
            if (hashes && FileHash.Sha256Hex(info.FullName) != f.Sha256) return $"{f.Path} content differs from its recorded hash";
        }
        return null;
    }

}
