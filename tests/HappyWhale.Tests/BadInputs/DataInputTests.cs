using HappyWhale.Tests.Data;
using static HappyWhale.Tests.BadInputs.Catalogue;

namespace HappyWhale.Tests.BadInputs;

/// <summary>Bad Kaggle-layout data: label CSVs, images and names that would break a CSV row. All stop in prepare, nothing cached.</summary>
public class DataInputTests
{
    static void Refused(string? trainCsv, Action<string>? change, params string[] mentions)
    {
        using var repo = Repository();
        string root = Kaggle(repo, trainCsv);
        change?.Invoke(root);
        AssertRefused(repo, ["prepare", "--exp", "k"], mentions);
    }

    [Fact]
    public void A_header_only_train_csv_says_there_is_nothing_to_train_on() =>
        Refused("image,species,individual_id\n", null, "train.csv lists no images (a header and no rows)");

    [Fact]
    public void A_missing_column_is_named() =>
        Refused("image,species\nt0.png,beluga\n", null, "train.csv:1:", "missing column(s) individual_id");

    [Fact]
    public void An_extra_column_is_named_as_extra_not_as_wrong_order() =>
        Refused("image,species,individual_id,notes\nt0.png,beluga,id0,x\n", null, "train.csv:1:", "extra column(s) notes");

    [Fact]
    public void A_row_with_a_missing_field_is_located() =>
        Refused(TrainCsvWith("t0.png,beluga"), null, "train.csv:10: 2 field(s), expected 3");

    [Fact]
    public void An_empty_individual_id_is_located() =>
        Refused(TrainCsvWith("t0b.png,beluga,"), null, "train.csv:10: empty individual_id");

    [Fact]
    public void An_image_listed_twice_is_located() =>
        Refused(TrainCsvWith("t0.png,beluga,id9"), null, "train.csv:10: image t0.png already listed on line 2");

    [Fact]
    public void An_individual_id_with_a_space_is_refused_like_the_folder_source_does() =>
        Refused(TrainCsvWith("t0b.png,beluga,big fin"), root => File.WriteAllBytes(Path.Combine(root, "train_images", "t0b.png"), FolderSourceTests.Png(70)),
            "train.csv:10: whitespace in individual_id 'big fin'");

    [Fact]
    public void A_listed_image_that_does_not_exist_is_named_with_its_line() =>
        Refused(TrainCsvWith("gone.png,beluga,id0"), null, "gone.png: image file not found (listed on line 10");

    [Fact]
    public void An_empty_image_file_is_named() =>
        Refused(null, root => File.WriteAllBytes(Path.Combine(root, "train_images", "t3.png"), []), "t3.png: empty file (0 bytes)");

    [Fact]
    public void A_corrupt_image_is_named() =>
        Refused(null, root => File.WriteAllBytes(Path.Combine(root, "train_images", "t3.png"), [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]), "t3.png:");

    [Fact]
    public void An_image_above_max_image_pixels_is_refused_before_decoding()
    {
        using var repo = Repository();
        Kaggle(repo);
        AssertRefused(repo, ["prepare", "--exp", "k", "--set", "data.max_image_pixels=100"], ["12 x 12 = 144 pixels, above data.max_image_pixels = 100"]);
    }

    [Fact]
    public void A_test_image_named_with_a_comma_is_refused_not_cached() =>
        Refused(null, root => File.WriteAllBytes(Path.Combine(root, "test_images", "q,2.png"), FolderSourceTests.Png(60)),
            "q,2.png: a comma in the file name", "rename the file");

    [Fact]
    public void A_test_image_named_with_a_quote_is_refused() =>
        Refused(null, root => File.WriteAllBytes(Path.Combine(root, "test_images", "q\"2.png"), FolderSourceTests.Png(60)), "a double quote in the file name");

    [Fact]
    public void Bad_images_all_skipped_leave_no_training_images_and_say_so()
    {
        using var repo = Repository();
        string root = Kaggle(repo);
        foreach (var file in Directory.GetFiles(Path.Combine(root, "train_images"))) File.WriteAllBytes(file, []);
        AssertRefused(repo, ["prepare", "--exp", "k", "--set", "data.on_bad_image=skip"], ["no training images left", "every one was bad and skipped"]);
    }

    [Fact]
    public void A_missing_kaggle_folder_says_what_it_expected()
    {
        using var repo = Repository();
        repo.Write("k.yaml", KaggleExperiment);
        AssertRefused(repo, ["prepare", "--exp", "k"], ["is not a Kaggle Happywhale folder", "train.csv"]);
    }

    [Fact]
    public void Fewer_than_four_individuals_stop_before_training_instead_of_failing_in_evaluate()
    {
        using var repo = Repository();
        Kaggle(repo, "image,species,individual_id\nt0.png,beluga,a\nt1.png,beluga,a\nt2.png,beluga,b\nt3.png,beluga,c\n");
        // Prepare itself succeeds and its entry is complete; what must not happen is training, then a crash in evaluate.
        var (code, output) = repo.RunCli(Limit, "run", "--exp", "k");
        Assert.True(code == 2, $"exit code {code}:\n{output}");
        Assert.True(Mentions(output, "3 individual(s) with training images; evaluate needs at least 4"), output);
        Assert.DoesNotContain("   at ", output);
        Assert.False(Directory.Exists(Path.Combine(repo.Cache, "train")) && Directory.EnumerateFileSystemEntries(Path.Combine(repo.Cache, "train")).Any());
        Assert.All(Directory.GetDirectories(Path.Combine(repo.Cache, "prepare")), entry => Assert.True(File.Exists(Path.Combine(entry, "manifest.json")), entry));
    }
}
