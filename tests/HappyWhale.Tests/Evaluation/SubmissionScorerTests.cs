using HappyWhale.Data;
using HappyWhale.Evaluation;

namespace HappyWhale.Tests.Evaluation;

public class SubmissionScorerTests
{
    // Written from Kaggle's formula, not from MapAt5: sum over k<=min(n,5) of P(k)*rel(k), where the
    // label stops being relevant once it has been scored. Divided by the one true label per image.
    private static double ReferenceAp(IReadOnlyList<string> preds, string label)
    {
        bool stillRelevant = true;
        int hits = 0;
        double sum = 0;
        for (int k = 1; k <= Math.Min(preds.Count, 5); k++)
        {
            bool rel = stillRelevant && preds[k - 1] == label;
            if (!rel) continue;
            hits++;
            sum += (double)hits / k;
            stillRelevant = false;
        }
        return sum / 1;
    }

    [Fact]
    public void MatchesIndependentDefinitionOnRandomSubmissions()
    {
        var rng = new Random(20220201);
        string[] pool = { "new_individual", "aa01", "bb02", "cc03", "dd04", "ee05", "ff06" };
        using var dir = new TempDir();
        for (int trial = 0; trial < 300; trial++)
        {
            int n = rng.Next(1, 12);
            var images = Enumerable.Range(0, n).Select(i => $"{trial:x}_{i}.jpg").ToArray();
            var labels = images.Select(_ => pool[rng.Next(pool.Length)]).ToArray();
            var preds = images.Select(_ => Enumerable.Range(0, rng.Next(1, 8)).Select(_ => pool[rng.Next(pool.Length)]).ToArray()).ToArray();
            // Rows shuffled relative to the labels, sometimes extra spaces: the scorer must match by image name.
            var order = Enumerable.Range(0, n).OrderBy(_ => rng.Next()).ToArray();
            var sub = dir.File($"sub{trial}.csv");
            File.WriteAllLines(sub, new[] { "image,predictions" }
                .Concat(order.Select(i => $"{images[i]},{string.Join(rng.Next(4) == 0 ? "  " : " ", preds[i])}")));
            var lab = dir.File($"lab{trial}.csv");
            bool trainLayout = trial % 2 == 0;
            File.WriteAllLines(lab, new[] { trainLayout ? "image,species,individual_id" : "image,individual_id" }
                .Concat(images.Select((im, i) => trainLayout ? $"{im},beluga,{labels[i]}" : $"{im},{labels[i]}")));

            double expected = Enumerable.Range(0, n).Average(i => ReferenceAp(preds[i], labels[i]));
            Assert.Equal(expected, SubmissionScorer.Score(sub, lab), 12);
        }
    }

    private static (string Sub, string Lab) Files(TempDir dir, string[] subLines, string[] labLines)
    {
        var sub = dir.File("submission.csv");
        var lab = dir.File("labels.csv");
        File.WriteAllLines(sub, subLines);
        File.WriteAllLines(lab, labLines);
        return (sub, lab);
    }

    [Fact]
    public void MissingImageNamesLabelsFileAndLine()
    {
        using var dir = new TempDir();
        var (sub, lab) = Files(dir, new[] { "image,predictions", "a.jpg,x" }, new[] { "image,individual_id", "a.jpg,x", "b.jpg,y" });
        var ex = Assert.Throws<CsvFormatException>(() => SubmissionScorer.Score(sub, lab));
        Assert.Equal(lab, ex.File);
        Assert.Equal(3, ex.Line);
        Assert.Contains("'b.jpg'", ex.Message);
    }

    [Fact]
    public void UnknownImageNamesSubmissionFileAndLine()
    {
        using var dir = new TempDir();
        var (sub, lab) = Files(dir, new[] { "image,predictions", "a.jpg,x", "z.jpg,x" }, new[] { "image,individual_id", "a.jpg,x" });
        var ex = Assert.Throws<CsvFormatException>(() => SubmissionScorer.Score(sub, lab));
        Assert.Equal(sub, ex.File);
        Assert.Equal(3, ex.Line);
    }

    [Theory]
    [InlineData("a.jpg,x,y", 2)]          // too many fields
    [InlineData("a.jpg,", 2)]             // no predictions
    [InlineData(",x", 2)]                 // no image
    public void BadSubmissionRowNamesLine(string row, int line)
    {
        using var dir = new TempDir();
        var (sub, lab) = Files(dir, new[] { "image,predictions", row }, new[] { "image,individual_id", "a.jpg,x" });
        var ex = Assert.Throws<CsvFormatException>(() => SubmissionScorer.Score(sub, lab));
        Assert.Equal(line, ex.Line);
        Assert.Contains(sub, ex.Message);
    }

    [Fact]
    public void DuplicateSubmissionImageNamesBothLines()
    {
        using var dir = new TempDir();
        var (sub, lab) = Files(dir, new[] { "image,predictions", "a.jpg,x", "a.jpg,y" }, new[] { "image,individual_id", "a.jpg,x" });
        var ex = Assert.Throws<CsvFormatException>(() => SubmissionScorer.Score(sub, lab));
        Assert.Equal(3, ex.Line);
        Assert.Contains("line 2", ex.Message);
    }

    [Fact]
    public void WrongHeadersAreReported()
    {
        using var dir = new TempDir();
        var (sub, lab) = Files(dir, new[] { "Image,Id", "a.jpg,x" }, new[] { "image,individual_id", "a.jpg,x" });
        Assert.Contains("expected 'image,predictions'", Assert.Throws<CsvFormatException>(() => SubmissionScorer.Score(sub, lab)).Message);
        (sub, lab) = Files(dir, new[] { "image,predictions", "a.jpg,x" }, new[] { "image,species", "a.jpg,x" });
        Assert.Contains("no 'individual_id' column", Assert.Throws<CsvFormatException>(() => SubmissionScorer.Score(sub, lab)).Message);
    }

    [Fact]
    public void MissingFileIsReported()
    {
        using var dir = new TempDir();
        Assert.Throws<FileNotFoundException>(() => SubmissionScorer.Score(dir.File("nope.csv"), dir.File("nope2.csv")));
    }
}
