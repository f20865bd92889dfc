using System.IO.Compression;

namespace HappyWhale.Data;

/// <summary>
/// Unlabelled photos to identify (predict's --images): every image (.jpg, .jpeg, .png) under a folder, in a
/// .zip archive (read in place) or one image file, as test images named by their path relative to the
/// folder or archive. Hidden files and non-image files are passed over; a name the predictions CSV cannot
/// hold (a comma or a line break) is a bad item. Box CSVs for prepare.crop: box are looked up in the folder.
/// </summary>
public sealed class LooseImages : IImageSource, IDisposable
{
    readonly string _path;
    ZipArchive? _archive;
    SourceListing? _listing;

    LooseImages(string path) => _path = path;

    /// <summary>Checks the path and that it holds at least one image.</summary>
    /// <exception cref="UserException">the path does not exist, is not a folder, .zip or image, or holds no image.</exception>
    public static LooseImages Open(string path, string what = "--images")
    {
        string full = Path.GetFullPath(path);
        bool folder = Directory.Exists(full), file = File.Exists(full);
        if (!folder && !file)
            throw new UserException($"{what} {full}: no such folder or file; give a folder of photos, a .zip of photos or one photo (.jpg, .jpeg, .png).");
        if (file && !IsZip(full) && !KaggleSource.IsImage(full))
            throw new UserException($"{what} {full}: not a folder, a .zip archive or a photo (.jpg, .jpeg, .png).");
        var source = new LooseImages(full);
        try
        {
            if (source.List().Images.Count == 0 && source.List().Problems.Count == 0)
                throw new UserException($"{what} {full}: no photos found (.jpg, .jpeg or .png; hidden files are passed over).");
        }
        catch
        {
            source.Dispose();
            throw;
        }
        return source;
    }

    static bool IsZip(string path) => path.EndsWith(".zip", StringComparison.OrdinalIgnoreCase);

    public string Description => _path;
    public string Fingerprint => "loose:" + _path;
    public string? SampleSubmissionPath => null;
    public IReadOnlyList<Sample>? ReadTestLabels() => null;

    public string? DataFile(string relativePath)
    {
        if (!Directory.Exists(_path)) return null;
        string path = Path.GetFullPath(Path.Combine(_path, relativePath));
        return File.Exists(path) ? path : null;
    }

    public SourceListing List() => _listing ??= Read();

    SourceListing Read()
    {
        var problems = new List<BadItem>();
        var found = new List<(string Name, string Location, Func<Stream> Open)>();
        if (Directory.Exists(_path))
        {
            foreach (var file in Directory.EnumerateFiles(_path, "*", SearchOption.AllDirectories))
            {
                string rel = Path.GetRelativePath(_path, file).Replace('\\', '/');
                if (!FolderSource.IsHidden(rel) && KaggleSource.IsImage(rel)) found.Add((rel, file, () => File.OpenRead(file)));
            }
        }
        else if (IsZip(_path))
        {
            try { _archive = ZipFile.OpenRead(_path); }
            catch (InvalidDataException e)
            {
                problems.Add(new BadItem(_path, null, $"not a readable zip archive ({e.Message})", Fatal: true));
                return new SourceListing([], problems, new Dictionary<string, int>());
            }
            var archive = _archive;
            foreach (var entry in archive.Entries)
            {
                string rel = entry.FullName.Replace('\\', '/');
                if (rel.EndsWith('/') || FolderSource.IsHidden(rel) || !KaggleSource.IsImage(rel)) continue;
                found.Add((rel, $"{_path}:{rel}", () => FolderSource.ReadEntry(archive, entry, BadItems.DefaultMaxZipEntryBytes)));
            }
        }
        else found.Add((Path.GetFileName(_path), _path, () => File.OpenRead(_path)));

        var images = new List<SourceImage>();
        foreach (var (name, location, open) in found.OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            if (name.IndexOfAny([',', '\n', '\r']) >= 0)
                problems.Add(new BadItem(location, null, "a comma or line break in the name (predictions.csv is comma-separated); rename the file"));
            else images.Add(new SourceImage(new Sample(name, "", ""), "test", location, open));
        }
        return new SourceListing(images, problems, new Dictionary<string, int> { ["photos"] = images.Count });
    }

    public void Dispose() => _archive?.Dispose();
}
