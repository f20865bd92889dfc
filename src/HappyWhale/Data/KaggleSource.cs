
namespace HappyWhale.Data;

/// <summary>
/// The competition layout under <see cref="Root"/>: train.csv (image,species,individual_id),
/// train_images/, test_images/, and, for synthetic sets, the ground truth test_labels.csv.
/// </summary>
public sealed class KaggleSource(string root, string? fingerprint = null) : IImageSource
{
    internal static readonly string[] LabelHeader = ["image", "species", "individual_id"];
    string? _fingerprint = fingerprint;

    public string Root { get; } = root;
    public string TrainCsv => Path.Combine(Root, "train.csv");
    public string TestLabelsCsv => Path.Combine(Root, "test_labels.csv");
    public string TrainImagesDir => Path.Combine(Root, "train_images");
    public string TestImagesDir => Path.Combine(Root, "test_images");

    public string TrainImagePath(string image) => Path.Combine(TrainImagesDir, image);
    public string TestImagePath(string image) => Path.Combine(TestImagesDir, image);

    public string Description => Root;

    /// <summary>The given fingerprint (synthetic: the synth key), else <see cref="SourceFingerprint"/> of the root.</summary>
    public string Fingerprint => _fingerprint ??= SourceFingerprint.Compute(Root);

    public string SampleSubmissionCsv => Path.Combine(Root, "sample_submission.csv");
    public string? SampleSubmissionPath => File.Exists(SampleSubmissionCsv) ? SampleSubmissionCsv : null;

    public string? DataFile(string relativePath)
    {
        string path = Path.GetFullPath(Path.Combine(Root, relativePath));
        return File.Exists(path) ? path : null;
    }

    public IReadOnlyList<Sample> ReadTrain() => ReadLabels(TrainCsv);

    /// <summary>Ground truth of the test images, or null when the folder has none (real Kaggle data).</summary>
    public IReadOnlyList<Sample>? ReadTestLabels() => File.Exists(TestLabelsCsv) ? ReadLabels(TestLabelsCsv) : null;

    /// <summary>File names in test_images/ (jpg, jpeg, png), sorted ordinally.</summary>
    public IReadOnlyList<string> ListTestImages()
    {
        if (!Directory.Exists(TestImagesDir)) throw new DirectoryNotFoundException($"{TestImagesDir}: folder not found");
        return Directory.EnumerateFiles(TestImagesDir)
            .Select(Path.GetFileName)
            .OfType<string>()
            .Where(IsImage)
            .OrderBy(n => n, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>train.csv rows (bad rows become problems, not exceptions), then test_images/.</summary>
    public SourceListing List()
    {
        var problems = new List<BadItem>();
        var images = new List<SourceImage>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (line, f) in CsvFile.ReadChecked(TrainCsv, LabelHeader, [], problems))
        {
            if (!seen.TryAdd(f[0], line)) { problems.Add(new BadItem(TrainCsv, line, $"image {f[0]} already listed on line {seen[f[0]]}")); continue; }
            if (BadLabel(f) is { } bad) { problems.Add(new BadItem(TrainCsv, line, bad)); continue; }
            string path = TrainImagePath(f[0]);
            images.Add(new SourceImage(new Sample(f[0], f[1], f[2]), "train", path, () => File.OpenRead(path), line));
        }
        if (Directory.Exists(TestImagesDir))
            foreach (var image in ListTestImages())
            {
                string path = TestImagePath(image);
                if (CsvFile.UnsafeName(image) is { } unsafeChar)
                    problems.Add(new BadItem(CsvFile.Printable(path), null, $"{unsafeChar} in the file name (a submission row is 'image,id id id id id'): rename the file"));
                else images.Add(new SourceImage(new Sample(image, "", ""), "test", path, () => File.OpenRead(path)));
            }
        else problems.Add(new BadItem(TestImagesDir, null, "folder not found", Fatal: true));
        return new SourceListing(images, problems, new Dictionary<string, int>());
    }

    /// <summary>Why a train.csv row's names cannot be used, or null. Image and id go into submission rows ('image,id id id id id').</summary>
    static string? BadLabel(string[] fields)
    {
        for (int i = 0; i < fields.Length; i++)
            if ((i == 1 ? CsvFile.UnsafeField(fields[i]) : CsvFile.UnsafeName(fields[i])) is { } unsafeChar)
                return $"{unsafeChar} in {LabelHeader[i]} '{CsvFile.Printable(fields[i])}' " +
                       (i == 1 ? "(index.csv is comma-separated)" : "(a submission row is 'image,id id id id id')") + ": rename it";
        return null;
    }

    public static bool IsImage(string name)
    {
        string ext = Path.GetExtension(name).ToLowerInvariant();
        return ext is ".jpg" or ".jpeg" or ".png";
    }

    static List<Sample> ReadLabels(string path)
    {
        var samples = new List<Sample>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (line, f) in CsvFile.Read(path, LabelHeader))
        {
            if (!seen.TryAdd(f[0], line))
                throw new InvalidDataException($"{path}:{line}: image {f[0]} already listed on line {seen[f[0]]}");
            samples.Add(new Sample(f[0], f[1], f[2]));
        }
        return samples;
    }
}
