using System.IO.Compression;
using HappyWhale.Data;
using HappyWhale.Experiments;
using HappyWhale.Imaging;
using HappyWhale.Pipeline;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace HappyWhale.Tests.Data;

public class FolderSourceTests
{
    internal static byte[] Png(int seed, int size = 12)
    {
        var rng = new Random(seed);
        using var image = new Image<Rgb24>(size, size);
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++) image[x, y] = new Rgb24((byte)rng.Next(256), (byte)rng.Next(256), (byte)rng.Next(256));
        using var memory = new MemoryStream();
        image.SaveAsPng(memory);
        return memory.ToArray();
    }

    // species a (ids 1, 2), species b (id 1): 4 images each, as loose files under root.
    static void WriteTree(string root, string prefix = "")
    {
        int seed = 0;
        foreach (var (species, id) in new[] { ("a", "1"), ("a", "2"), ("b", "1") })
            for (int i = 0; i < 4; i++)
            {
                string path = Path.Combine(root, prefix, species, id, $"{i}.png");
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllBytes(path, Png(seed++));
            }
    }

    static void WriteZip(string zipPath, string top, IEnumerable<(string Species, string Id, int Count)> layout)
    {
        using var zip = ZipFile.Open(zipPath, ZipArchiveMode.Create);
        int seed = 100;
        foreach (var (species, id, count) in layout)
            for (int i = 0; i < count; i++)
            {
                var entry = zip.CreateEntry($"{top}{species}/{id}/{i}.png");
                using var s = entry.Open();
                s.Write(Png(seed++));
            }
    }

    [Fact]
    public void Reads_a_folder_tree_with_species_individual_ids_and_relative_names()
    {
        using var dir = new TempFolder();
        WriteTree(dir.Path);
        using var source = new FolderSource([dir.Path], queryShare: 0.25, newIndividualShare: 0, seed: 1);
        var listing = source.List();
        Assert.Empty(listing.Problems);
        Assert.Equal(12, listing.Images.Count);
        var train = listing.Images.Where(i => i.Subset == "train").ToList();
        var test = listing.Images.Where(i => i.Subset == "test").ToList();
        Assert.Equal(9, train.Count);                       // one of four per individual is a query
        Assert.Equal(3, test.Count);
        Assert.Contains(train, i => i.Sample == new Sample("a/2/" + Path.GetFileName(i.Sample.Image), "a", "a/2"));
        Assert.All(test, t => Assert.Equal("", t.Sample.IndividualId));   // labels are not in the prepared rows...
        var truth = source.ReadTestLabels()!;                                // ...but in the ground truth
        Assert.Equal(test.Select(t => t.Sample.Image), truth.Select(t => t.Image));
        Assert.Equal(["a/1", "a/2", "b/1"], truth.Select(t => t.IndividualId).Order());
        var first = train.First(t => t.Sample.IndividualId == "a/1");   // a/1/i.png was written with seed i
        using var stream = first.Open();
        Assert.Equal(Png(int.Parse(Path.GetFileNameWithoutExtension(first.Sample.Image))), ReadAll(stream));
    }

    [Fact]
    public void Reads_zips_in_place_stripping_the_top_folder_and_reading_duplicates_once()
    {
        using var dir = new TempFolder();
        WriteZip(dir.Combine("one.zip"), "set1/", [("greek", "c1", 4), ("greek", "c2", 4)]);
        WriteZip(dir.Combine("two.zip"), "set2/", [("greek", "c1", 4), ("latin", "c1", 4)]);
        using var source = new FolderSource([dir.Path], 0.25, 0, 3);   // the folder holding the zips
        var listing = source.List();
        Assert.Empty(listing.Problems);
        Assert.Equal(12, listing.Images.Count);
        Assert.Equal(4, listing.Counts["duplicate_images_skipped"]);
        Assert.Equal(2, listing.Counts["archives_and_folders"]);
        Assert.Contains(listing.Images, i => i.Sample.Image == "latin/c1/0.png" || i.Subset == "test");
        Assert.All(listing.Images, i => Assert.Contains(".zip:", i.Location));

        // A zip named directly, and several roots: the same images.
        using var direct = new FolderSource([dir.Combine("one.zip"), dir.Combine("two.zip")], 0.25, 0, 3);
        Assert.Equal(listing.Images.Select(i => (i.Sample, i.Subset)), direct.List().Images.Select(i => (i.Sample, i.Subset)));

        // Prepared through the zip, in parallel.
        var rows = Preparer.Run(listing.Images, new PrepareSpec { ImageSize = 8, Resize = SquareResize.Squash, ShardImages = 5, Crop = CropMode.None },
            dir.Combine("prepared"), new PrepareOptions(), [], maxDegreeOfParallelism: 2).Rows;
        Assert.Equal(12, rows.Count);
    }

    [Fact]
    public void Query_split_is_deterministic_holds_out_whole_individuals_and_keeps_one_image_in_training()
    {
        var samples = Enumerable.Range(0, 40).SelectMany(id => Enumerable.Range(0, 1 + id % 5)
            .Select(i => new Sample($"{id}_{i}.png", "s", $"id{id:D2}"))).ToList();
        var a = QuerySplit.Choose(samples, 0.25, 0.1, 7);
        var b = QuerySplit.Choose(samples, 0.25, 0.1, 7);
        Assert.Equal(a.QueryImages.Order(), b.QueryImages.Order());
        Assert.Equal(4, a.NewIndividuals.Count);
        Assert.NotEqual(a.QueryImages.Order(), QuerySplit.Choose(samples, 0.25, 0.1, 8).QueryImages.Order());
        foreach (var g in samples.GroupBy(s => s.IndividualId))
        {
            int queries = g.Count(s => a.QueryImages.Contains(s.Image));
            if (a.NewIndividuals.Contains(g.Key)) Assert.Equal(g.Count(), queries);
            else
            {
                Assert.True(queries < g.Count(), $"{g.Key}: every image a query");
                Assert.Equal(Math.Min(g.Count() - 1, (int)Math.Round(g.Count() * 0.25, MidpointRounding.AwayFromZero)), queries);
            }
        }
    }

    [Fact]
    public void Misplaced_images_and_bad_names_are_reported()
    {
        using var dir = new TempFolder();
        WriteTree(dir.Path);
        File.WriteAllBytes(dir.Combine("a", "loose.png"), Png(1));
        Directory.CreateDirectory(dir.Combine("a", "with space"));
        File.WriteAllBytes(dir.Combine("a", "with space", "x.png"), Png(2));
        File.WriteAllText(dir.Combine("README.txt"), "not an image");
        using var source = new FolderSource([dir.Path], 0, 0, 1);
        var problems = source.List().Problems;
        Assert.Equal(2, problems.Count);
        Assert.Contains(problems, p => p.File.EndsWith("loose.png") && p.Reason.Contains("<species>/<individual>/<image>"));
        Assert.Contains(problems, p => p.File.EndsWith("x.png") && p.Reason.Contains("whitespace"));
    }

    [Fact]
    public void Missing_root_stops_before_any_stage_saying_where_it_was_expected()
    {
        using var dir = new TempFolder();
        var data = new DataSpec { Source = DataSource.Folder, Root = "../nowhere/omniglot", QueryShare = 0.25 };
        var e = Assert.Throws<UserException>(() => DataSourceResolver.Folder(data, dir.Path));
        Assert.Contains(Path.GetFullPath(Path.Combine(dir.Path, "../nowhere/omniglot")), e.Message);
        Assert.Contains("images_background_small1.zip", e.Message);
        Assert.Throws<UserException>(() => DataSourceResolver.Folder(new DataSpec { Source = DataSource.Folder }, dir.Path));
    }

    [Fact]
    public void Fingerprint_changes_with_the_query_split_and_the_files()
    {
        using var dir = new TempFolder();
        WriteTree(dir.Path);
        string f1 = new FolderSource([dir.Path], 0.25, 0, 1).Fingerprint;
        Assert.Equal(f1, new FolderSource([dir.Path], 0.25, 0, 1).Fingerprint);
        Assert.NotEqual(f1, new FolderSource([dir.Path], 0.25, 0, 2).Fingerprint);
        File.WriteAllBytes(dir.Combine("b", "1", "9.png"), Png(99));
        Assert.NotEqual(f1, new FolderSource([dir.Path], 0.25, 0, 1).Fingerprint);
    }

    static byte[] ReadAll(Stream s)
    {
        using var m = new MemoryStream();
        s.CopyTo(m);
        return m.ToArray();
    }
}

public class OmniglotSourceTests
{
    const string Folder = "/work/shared/datasets/omniglot";

    static string? Find()
    {
        foreach (var candidate in new[] { Environment.GetEnvironmentVariable("HAPPYWHALE_OMNIGLOT"), Path.Combine(ExperimentsRoot(), "..", "..", "shared", "datasets", "omniglot"), Folder })
            if (candidate is not null && File.Exists(Path.Combine(candidate, "images_background_small1.zip"))) return candidate;
        return null;
    }

    static string ExperimentsRoot() => HappyWhale.Tests.Experiments.ExperimentFiles.RepoExperimentsDir;

    [Fact]
    public void Reads_both_omniglot_zips_when_present()
    {
        string? folder = Find();
        if (folder is null) return;   // the data set is not here: nothing to read (xunit 2 has no dynamic skip)
        using var source = new FolderSource([folder], 0.25, 0.05, 42);
        var listing = source.List();
        Assert.Empty(listing.Problems);
        var train = listing.Images.Where(i => i.Subset == "train").ToList();
        Assert.True(train.Select(i => i.Sample.Species).Distinct().Count() >= 8);
        Assert.True(listing.Counts["individuals"] > 200);
        Assert.True(listing.Counts["duplicate_images_skipped"] > 0);        // Greek and Latin are in both archives
        Assert.All(train, i => Assert.StartsWith(i.Sample.Species + "/character", i.Sample.IndividualId));
        Assert.Equal(listing.Images.Count(i => i.Subset == "test"), source.ReadTestLabels()!.Count);
        using var image = Image.Load<Rgb24>(train[0].Open());
        Assert.Equal(105, image.Width);
    }
}
