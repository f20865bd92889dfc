using System.IO.Compression;
using System.Text.RegularExpressions;
using HappyWhale.Data;
using HappyWhale.Evaluation;
using HappyWhale.Pipeline;
using HappyWhale.Reporting;
using SixLabors.ImageSharp;

namespace HappyWhale.Tests.EndToEnd;

/// <summary>predict through the real program: new photos against the trained tiny experiment's catalogue.</summary>
[Collection(TrainedTinyCollection.Name)]
public class PredictTests(TrainedTiny tiny)
{
    /// <summary>20 of the synthetic set's test photos (known and new individuals) copied to a folder of their own.</summary>
    (string Folder, IReadOnlyList<string> Images) TwentyTestPhotos(string name)
    {
        var source = new KaggleSource(tiny.BaseStage(StageNames.Synth).Folder);
        var images = source.ListTestImages().Take(20).ToList();
        string folder = Path.Combine(tiny.Repo.Root, name);
        Directory.CreateDirectory(folder);
        foreach (var image in images) File.Copy(source.TestImagePath(image), Path.Combine(folder, image));
        return (folder, images);
    }

    static Dictionary<string, string[]> ReadColumn(string path, string header, int column) =>
        CsvFile.Read(path, header.Split(',')).ToDictionary(r => r.Fields[0], r => r.Fields[column].Split(' '));

    [Fact]
    public void Twenty_photos_give_the_csv_page_and_sheet_and_the_same_answers_as_evaluate()
    {
        var (folder, images) = TwentyTestPhotos("photos");
        string output = Path.Combine(tiny.Repo.Root, "predicted");

        var (code, log) = tiny.Repo.RunCli("predict", "--exp", TrainedTiny.Name, "--images", folder, "--out", output);

        Assert.True(code == 0, log);
        Assert.DoesNotContain("computed", log);   // the trained experiment's stages are all cache hits
        var predicted = ReadColumn(Path.Combine(output, PredictionsCsv.FileName), "image,predictions,similarities", 1);
        var similarities = ReadColumn(Path.Combine(output, PredictionsCsv.FileName), "image,predictions,similarities", 2);
        Assert.Equal(images.Order(StringComparer.Ordinal), predicted.Keys.Order(StringComparer.Ordinal));
        Assert.All(predicted.Values, ids => Assert.Equal(5, ids.Distinct().Count()));
        Assert.All(similarities.Values, s => Assert.Equal(5, s.Length));

        // Same preprocessing, models, gallery and tuned threshold as evaluate: the submission's answers, and in
        // particular every known individual evaluate ranked first is ranked first here.
        string evaluated = tiny.BaseStage(StageNames.Evaluate).Folder;
        var submission = ReadColumn(Path.Combine(evaluated, EvaluateStage.SubmissionFile), "image,predictions", 1);
        var truth = CsvFile.Read(Path.Combine(evaluated, EvaluateStage.TestTruthFile), "image", "individual_id").ToDictionary(r => r.Fields[0], r => r.Fields[1]);
        var rankedFirst = images.Where(i => truth[i] != NewIndividual.Id && submission[i][0] == truth[i]).ToList();
        Assert.NotEmpty(rankedFirst);
        Assert.Contains(images, i => truth[i] == NewIndividual.Id);
        Assert.All(rankedFirst, i => Assert.Equal(truth[i], predicted[i][0]));
        Assert.All(images, i => Assert.Equal(submission[i], predicted[i]));

        string page = File.ReadAllText(Path.Combine(output, MatchPage.FileName));
        Assert.Equal(20, page.Split("<td class=\"photo\">").Length - 1);
        var thumbs = Regex.Matches(page, "src=\"(thumbs/[0-9]+\\.jpg)\"").Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.True(thumbs.Count > 20, $"{thumbs.Count} thumbnails");
        Assert.All(thumbs, t => Assert.True(File.Exists(Path.Combine(output, t)), t));
        Assert.All(images, i => Assert.Contains(i, page));

        var sheet = Image.Identify(Path.Combine(output, MatchSheet.FileName));
        Assert.Equal(4 + 6 * 100 + 4, sheet.Width);              // the photo and its five answers
        Assert.Equal(4 + 20 * (96 + 22 + 4), sheet.Height);      // a row for each of the first 20 photos
    }

    [Fact]
    public void Bad_photos_stop_with_exit_2_naming_each_and_leave_no_output()
    {
        var (folder, _) = TwentyTestPhotos("bad_photos");
        File.WriteAllText(Path.Combine(folder, "corrupt.jpg"), "not a jpeg at all");
        File.WriteAllBytes(Path.Combine(folder, "empty.png"), []);
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "not a photo, passed over");
        string output = Path.Combine(tiny.Repo.Root, "never");
        var cacheBefore = tiny.Repo.CacheListing();

        var (code, log) = tiny.Repo.RunCli("predict", "--exp", TrainedTiny.Name, "--images", folder, "--out", output);

        Assert.Equal(2, code);
        Assert.Contains("2 bad input item(s), nothing was predicted", Regex.Replace(log, @"\s+", " "));
        Assert.Contains("corrupt.jpg", log);
        Assert.Contains("empty.png", log);
        Assert.DoesNotContain("notes.txt", log);
        Assert.DoesNotContain("   at ", log);
        Assert.False(Directory.Exists(output));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(tiny.Repo.Root, "artifacts", "tmp")));
        Assert.Equal(cacheBefore, tiny.Repo.CacheListing());
    }

    [Theory]
    [InlineData("missing_folder", "", "no such folder or file")]
    [InlineData("empty_folder", "", "no photos found")]
    [InlineData("photos_top", "--top=0", "--top 0: give a whole number from 1 to 100")]
    public void Wrong_arguments_stop_with_exit_2_before_any_stage(string images, string option, string message)
    {
        if (images == "empty_folder") Directory.CreateDirectory(Path.Combine(tiny.Repo.Root, images));
        if (images == "photos_top") TwentyTestPhotos(images);
        var args = new List<string> { "predict", "--exp", TrainedTiny.Name, "--images", Path.Combine(tiny.Repo.Root, images) };
        if (option.Length > 0) args.Add(option);

        var (code, log) = tiny.Repo.RunCli(args.ToArray());

        Assert.Equal(2, code);
        Assert.Contains(message, Regex.Replace(log, @"\s+", " "));   // the console wraps long lines
        Assert.DoesNotContain("cache hit", log);
    }

    [Fact]
    public void A_zip_of_photos_against_a_gallery_folder_answers_with_the_gallery_individuals()
    {
        // A gallery laid out as <species>/<individual>/<image>: the training photos of the synthetic set.
        var synth = new KaggleSource(tiny.BaseStage(StageNames.Synth).Folder);
        string gallery = Path.Combine(tiny.Repo.Root, "gallery");
        foreach (var s in synth.ReadTrain())
        {
            string dir = Path.Combine(gallery, s.Species, s.IndividualId);
            Directory.CreateDirectory(dir);
            File.Copy(synth.TrainImagePath(s.Image), Path.Combine(dir, s.Image));
        }
        string zip = Path.Combine(tiny.Repo.Root, "three.zip");
        using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
            foreach (var image in synth.ListTestImages().Take(3))
                archive.CreateEntryFromFile(synth.TestImagePath(image), "new/" + image);

        using var predictions = PredictStage.Run(tiny.Load(), tiny.Options, new PredictRequest(zip, gallery, Top: 3));

        Assert.Equal(3, predictions.Photos.Count);
        Assert.All(predictions.Photos, p => Assert.StartsWith("new/", p.Image));
        Assert.Equal(synth.ReadTrain().Count, predictions.GalleryImages);
        var galleryIds = synth.ReadTrain().Select(s => $"{s.Species}/{s.IndividualId}").ToHashSet();
        foreach (var photo in predictions.Photos)
        {
            Assert.Equal(3, photo.Matches.Count);
            Assert.All(photo.Matches.Where(m => m.Id != NewIndividual.Id), m =>
            {
                Assert.Contains(m.Id, galleryIds);
                Assert.Equal(m.Id, $"{m.Photo!.IndividualId}");
            });
        }
        Assert.False(Directory.Exists(Path.Combine(tiny.Repo.Root, "artifacts", "tmp")) &&
                     Directory.EnumerateFileSystemEntries(Path.Combine(tiny.Repo.Root, "artifacts", "tmp")).Any());
    }
}
