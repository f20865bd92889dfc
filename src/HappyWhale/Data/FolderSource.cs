using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace HappyWhale.Data;

/// <summary>
/// data.source: folder. Images laid out as &lt;species&gt;/&lt;individual&gt;/&lt;image&gt; under each root, where a
/// root is a folder (its loose images, plus every .zip file inside it) or a .zip archive, read in place
/// without extracting. Folders that wrap the whole layout (a zip's single top folder) are skipped. When two
/// roots hold the same relative path, the first wins and the duplicate is counted. An individual's id is
/// "species/individual" (the same folder name may appear under two species); an image's name is its
/// relative path. Test queries are chosen by <see cref="QuerySplit"/>.
/// </summary>
public sealed class FolderSource : IImageSource, IDisposable
{
    readonly IReadOnlyList<string> _roots;
    readonly double _queryShare, _newIndividualShare;
    readonly int _seed;
    readonly long _maxZipEntryBytes;
    readonly List<ZipArchive> _archives = [];
    readonly object _gate = new();
    SourceListing? _listing;
    IReadOnlyList<Sample>? _testLabels;
    string? _fingerprint;

    public FolderSource(IReadOnlyList<string> roots, double queryShare, double newIndividualShare, int seed,
        long maxZipEntryBytes = BadItems.DefaultMaxZipEntryBytes)
    {
        _maxZipEntryBytes = maxZipEntryBytes;
        if (roots.Count == 0) throw new ArgumentException("a folder source needs at least one root", nameof(roots));
        _roots = roots.Select(Path.GetFullPath).ToList();
        _queryShare = queryShare;
        _newIndividualShare = newIndividualShare;
        _seed = seed;
    }

    public string Description => string.Join(", ", _roots);
    public string? SampleSubmissionPath => null;

    /// <summary>Box CSVs and other data files are looked up in the first root that is a folder.</summary>
    public string? DataFile(string relativePath)
    {
        foreach (var root in _roots.Where(Directory.Exists))
        {
            string path = Path.GetFullPath(Path.Combine(root, relativePath));
            if (File.Exists(path)) return path;
        }
        return null;
    }

    /// <summary>Per root: a folder's fingerprint (<see cref="SourceFingerprint"/>), or a zip's name, size and time.</summary>
    public string Fingerprint
    {
        get
        {
            if (_fingerprint is not null) return _fingerprint;
            var text = new StringBuilder($"folder\t{_queryShare:R}\t{_newIndividualShare:R}\t{_seed}\n");
            foreach (var root in _roots)
            {
                if (Directory.Exists(root)) text.Append("dir\t").Append(SourceFingerprint.Compute(root)).Append('\n');
                else if (File.Exists(root))
                {
                    var info = new FileInfo(root);
                    text.Append($"zip\t{info.Name}\t{info.Length}\t{info.LastWriteTimeUtc.Ticks}\n");
                }
                else throw new UserException($"data root not found: {root}");
            }
            return _fingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
        }
    }

    public IReadOnlyList<Sample>? ReadTestLabels()
    {
        List();
        return _testLabels;
    }

    public SourceListing List()
    {
        if (_listing is not null) return _listing;
        var problems = new List<BadItem>();
        var chosen = new Dictionary<string, (string Location, Func<Stream> Open)>(StringComparer.Ordinal);
        int duplicates = 0, groups = 0;
        foreach (var root in _roots)
            foreach (var group in Groups(root, problems))
            {
                groups++;
                foreach (var (rel, location, open) in Normalise(group, problems))
                    if (!chosen.TryAdd(rel, (location, open))) duplicates++;
            }

        var samples = new List<Sample>();
        foreach (var rel in chosen.Keys.OrderBy(k => k, StringComparer.Ordinal))
        {
            var parts = rel.Split('/');
            // The relative path is the image's name and species/individual its id: both go into submission rows.
            string? bad = CsvFile.UnsafeName(rel) is { } unsafeChar ? $"{unsafeChar} in the path (a submission row is 'image,id id id id id'): rename it" : null;
            if (bad is not null) { problems.Add(new BadItem(CsvFile.Printable(chosen[rel].Location), null, bad)); continue; }
            samples.Add(new Sample(rel, parts[0], parts[0] + "/" + parts[1]));
        }

        var queries = QuerySplit.Choose(samples, _queryShare, _newIndividualShare, _seed);
        // Training images first, then the queries (unlabelled here; their labels are kept for scoring).
        var images = new List<SourceImage>(samples.Count);
        var testLabels = new List<Sample>();
        foreach (var s in samples)
        {
            if (queries.QueryImages.Contains(s.Image)) testLabels.Add(s);
            else images.Add(new SourceImage(s, "train", chosen[s.Image].Location, chosen[s.Image].Open));
        }
        foreach (var s in testLabels)
            images.Add(new SourceImage(new Sample(s.Image, "", ""), "test", chosen[s.Image].Location, chosen[s.Image].Open));
        _testLabels = testLabels;
        var counts = new Dictionary<string, int>
        {
            ["archives_and_folders"] = groups,
            ["duplicate_images_skipped"] = duplicates,
            ["individuals"] = samples.Select(s => s.IndividualId).Distinct().Count(),
            ["new_individuals_held_out"] = queries.NewIndividuals.Count,
            ["queries"] = queries.QueryImages.Count,
        };
        return _listing = new SourceListing(images, problems, counts);
    }

    // One group per folder tree and per zip archive: (relative path, location for messages, opener).
    IEnumerable<List<(string Rel, string Location, Func<Stream> Open)>> Groups(string root, List<BadItem> problems)
    {
        if (File.Exists(root) && root.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
        {
            if (OpenZip(root, problems) is { } zip) yield return zip;
            yield break;
        }
        if (!Directory.Exists(root))
        {
            problems.Add(new BadItem(root, null, "data root not found (a folder or a .zip file)", Fatal: true));
            yield break;
        }
        var loose = new List<(string, string, Func<Stream>)>();
        var zips = new List<string>();
        foreach (var file in FileTree.Files(root))
        {
            string rel = Path.GetRelativePath(root, file).Replace('\\', '/');
            if (IsHidden(rel)) continue;
            if (rel.EndsWith(".zip", StringComparison.OrdinalIgnoreCase)) zips.Add(file);
            else if (KaggleSource.IsImage(rel)) loose.Add((rel, file, () => File.OpenRead(file)));
        }
        if (loose.Count > 0) yield return loose;
        foreach (var zip in zips.OrderBy(z => z, StringComparer.Ordinal))
            if (OpenZip(zip, problems) is { } entries) yield return entries;
    }

    // Dot files and folders, and the resource forks macOS puts in zips.
    internal static bool IsHidden(string rel) => rel.Split('/').Any(p => p.StartsWith('.') || p == "__MACOSX");

    List<(string, string, Func<Stream>)>? OpenZip(string path, List<BadItem> problems)
    {
        ZipArchive archive;
        try { archive = ZipFile.OpenRead(path); }
        catch (InvalidDataException e) { problems.Add(new BadItem(path, null, $"not a readable zip archive ({e.Message})", Fatal: true)); return null; }
        lock (_gate) _archives.Add(archive);
        var entries = new List<(string, string, Func<Stream>)>();
        foreach (var entry in archive.Entries)
        {
            string rel = entry.FullName.Replace('\\', '/');
            if (rel.EndsWith('/') || !KaggleSource.IsImage(rel)) continue;
            if (IsHidden(rel)) continue;
            entries.Add((rel, $"{path}:{rel}", () => ReadEntry(archive, entry, _maxZipEntryBytes)));
        }
        return entries;
    }

    // ZipArchive is not thread-safe: entries are copied to memory one at a time (images are small), decoded in parallel.
    // A few hundred bytes of zip can inflate to gigabytes, so the copy is bounded: first by the size the archive
    // declares, then by the bytes actually inflated, which a crafted archive can make larger than declared
    // (.NET 10's reader already stops at the declared size; the count keeps the bound if a reader does not).
    internal static Stream ReadEntry(ZipArchive archive, ZipArchiveEntry entry, long maxBytes)
    {
        if (entry.Length > maxBytes)
            throw new InvalidDataException($"zip entry declares {entry.Length:N0} bytes, above data.max_zip_entry_bytes = {maxBytes:N0} (a decompression bomb?)");
        lock (archive)
        {
            var memory = new MemoryStream((int)entry.Length);
            var buffer = new byte[81920];
            using var stream = Inflating(() => entry.Open());
            for (int n; (n = Inflating(() => stream.Read(buffer))) > 0;)
            {
                if (memory.Length + n > entry.Length)
                    throw new InvalidDataException($"zip entry inflates beyond the {entry.Length:N0} bytes it declares (a corrupt or crafted archive)");
                memory.Write(buffer, 0, n);
            }
            memory.Position = 0;
            return memory;
        }
    }

    static T Inflating<T>(Func<T> step)
    {
        try { return step(); }
        catch (InvalidDataException e) { throw new InvalidDataException($"cannot inflate the zip entry, the archive is corrupt ({e.Message})", e); }
    }

    // Strips folders that wrap the whole layout, then keeps paths that are exactly species/individual/image.
    static IEnumerable<(string Rel, string Location, Func<Stream> Open)> Normalise(List<(string Rel, string Location, Func<Stream> Open)> group, List<BadItem> problems)
    {
        var split = group.Select(g => (Parts: g.Rel.Split('/'), g.Location, g.Open)).ToList();
        int skip = 0;
        while (split.All(s => s.Parts.Length - skip > 3) && split.Select(s => s.Parts[skip]).Distinct().Count() == 1) skip++;
        foreach (var (parts, location, open) in split)
        {
            if (parts.Length - skip != 3)
            {
                problems.Add(new BadItem(location, null, "not at <species>/<individual>/<image> (folder source layout)"));
                continue;
            }
            yield return (string.Join('/', parts.Skip(skip)), location, open);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var a in _archives) a.Dispose();
            _archives.Clear();
        }
    }
}
