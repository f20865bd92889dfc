using static HappyWhale.Tests.BadInputs.Catalogue;

namespace HappyWhale.Tests.BadInputs;

/// <summary>Bad submissions and label files given to `happywhale score`: refused with the file and line, never a partial score.</summary>
public class SubmissionInputTests
{
    const string Labels = "image,individual_id\na.jpg,w1\nb.jpg,new_individual\n";
    const string Good = "image,predictions\na.jpg,w1 w2 w3 w4 new_individual\nb.jpg,new_individual w1 w2 w3 w4\n";

    static void Refused(string submission, string labels, params string[] mentions)
    {
        using var repo = Repository();
        File.WriteAllText(Path.Combine(repo.Root, "sub.csv"), submission);
        File.WriteAllText(Path.Combine(repo.Root, "labels.csv"), labels);
        AssertRefused(repo, ["score", "--submission", "sub.csv", "--labels", "labels.csv"], mentions);
    }

    [Fact]
    public void The_good_pair_scores_so_the_cases_below_fail_for_their_own_reason()
    {
        using var repo = Repository();
        File.WriteAllText(Path.Combine(repo.Root, "sub.csv"), Good);
        File.WriteAllText(Path.Combine(repo.Root, "labels.csv"), Labels);
        var (code, output) = repo.RunCli(Limit, "score", "--submission", "sub.csv", "--labels", "labels.csv");
        Assert.True(code == 0, output);
        Assert.Contains("MAP@5 = 1.00000", output);
    }

    [Fact]
    public void A_wrong_header_is_located() => Refused("image,prediction\na.jpg,w1\n", Labels, "sub.csv:1: header is 'image,prediction'");

    [Fact]
    public void An_image_not_in_the_labels_is_located() =>
        Refused(Good + "c.jpg,w1 w2 w3 w4 w5\n", Labels, "sub.csv:4: image 'c.jpg' is not in labels.csv");

    [Fact]
    public void A_labelled_image_missing_from_the_submission_is_located() =>
        Refused("image,predictions\na.jpg,w1 w2 w3 w4 new_individual\n", Labels, "labels.csv:3: image 'b.jpg' has no row in sub.csv");

    [Fact]
    public void A_repeated_image_is_located() =>
        Refused(Good + "a.jpg,w1 w2 w3 w4 w5\n", Labels, "sub.csv:4: image 'a.jpg' already appeared on line 2");

    [Fact]
    public void A_quoted_field_is_refused() =>
        Refused("image,predictions\n\"a.jpg\",w1 w2 w3 w4 w5\n", Labels, "sub.csv:2: quoted fields are not expected");

    [Fact]
    public void A_header_only_label_file_says_there_is_nothing_to_score() =>
        Refused(Good, "image,individual_id\n", "labels.csv: no labelled images to score against");

    [Fact]
    public void A_missing_file_is_named()
    {
        using var repo = Repository();
        AssertRefused(repo, ["score", "--submission", "nope.csv", "--labels", "labels.csv"], ["file not found: nope.csv"]);
    }
}
