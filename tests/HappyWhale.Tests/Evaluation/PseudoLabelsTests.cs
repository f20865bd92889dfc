using HappyWhale.Evaluation;

namespace HappyWhale.Tests.Evaluation;

public class PseudoLabelsTests
{
    static IReadOnlyList<IndividualScore> Best(string id, float s) => [new(id, s), new("other", s - 0.1f)];

    [Fact]
    public void Keeps_photos_at_or_above_the_bar_most_similar_first_up_to_the_share()
    {
        string[] images = ["p1", "p2", "p3", "p4", "p5", "p6"];
        IReadOnlyList<IReadOnlyList<IndividualScore>> ranked =
            [Best("a", 0.95f), Best("b", 0.79f), Best("c", 0.80f), [], Best("d", 0.99f), Best("e", 0.90f)];

        var chosen = PseudoLabels.Choose(images, ranked, minSimilarity: 0.8, maxShare: 0.5);

        Assert.Equal(["p5", "p1", "p6"], chosen.Select(l => l.Image));      // 6 x 0.5 = 3 of the 4 that reach 0.8
        Assert.Equal(["d", "a", "e"], chosen.Select(l => l.IndividualId));
        Assert.Equal(4, PseudoLabels.Candidates(ranked, 0.8));
        Assert.Empty(PseudoLabels.Choose(images, ranked, 0.8, 0));
        Assert.Equal(4, PseudoLabels.Choose(images, ranked, 0.8, 1).Count);
    }

    [Fact]
    public void Ties_go_by_image_name_and_the_file_round_trips()
    {
        var chosen = PseudoLabels.Choose(["b.jpg", "a.jpg"], [Best("x", 0.9f), Best("y", 0.9f)], 0.5, 1);
        Assert.Equal(["a.jpg", "b.jpg"], chosen.Select(l => l.Image));
        using var folder = new TempFolder();
        PseudoLabels.Write(folder["labels.csv"], chosen);
        Assert.Equal(chosen, PseudoLabels.Read(folder["labels.csv"]));
    }
}
