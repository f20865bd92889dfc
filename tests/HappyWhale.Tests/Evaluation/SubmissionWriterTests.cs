using HappyWhale.Evaluation;

namespace HappyWhale.Tests.Evaluation;

public class SubmissionWriterTests
{
    private static readonly string[] Images = { "a.jpg", "b.jpg", "c.jpg" };

    private static List<SubmissionRow> GoodRows() => new()
    {
        new("a.jpg", new[] { "new_individual", "i1", "i2", "i3", "i4" }),
        new("b.jpg", new[] { "i1", "new_individual", "i2", "i3", "i4" }),
        new("c.jpg", new[] { "i4", "i3", "i2", "i1", "new_individual" }),
    };

    [Fact]
    public void WritesKaggleFormat()
    {
        using var dir = new TempDir();
        var path = dir.File("sub/submission.csv");
        SubmissionWriter.Write(path, GoodRows(), Images);
        var lines = File.ReadAllLines(path);
        Assert.Equal("image,predictions", lines[0]);
        Assert.Equal("a.jpg,new_individual i1 i2 i3 i4", lines[1]);
        Assert.Equal(4, lines.Length);
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));
        Assert.Equal(GoodRows().Select(r => r.Predictions), SubmissionReader.ReadSubmission(path).Select(r => r.Predictions));
    }

    public static TheoryData<string, string> BadCases => new()
    {
        { "missing", "image 'c.jpg': missing" },
        { "duplicate", "row 3 (image 'a.jpg'): duplicate of row 1" },
        { "four", "row 2 (image 'b.jpg'): 4 ids" },
        { "dupids", "row 1 (image 'a.jpg'): repeated id" },
        { "unknown", "not an expected test image" },
        { "space", "contains a comma" },
    };

    [Theory]
    [MemberData(nameof(BadCases))]
    public void RefusesBadRowsAndLeavesNoFile(string kind, string expectedProblem)
    {
        var rows = GoodRows();
        switch (kind)
        {
            case "missing": rows.RemoveAt(2); break;
            case "duplicate": rows[2] = rows[2] with { Image = "a.jpg" }; break;
            case "four": rows[1] = rows[1] with { Predictions = new[] { "i1", "i2", "i3", "i4" } }; break;
            case "dupids": rows[0] = rows[0] with { Predictions = new[] { "i1", "i2", "i1", "i3", "i4" } }; break;
            case "unknown": rows.Add(new("zzz.jpg", new[] { "i1", "i2", "i3", "i4", "i5" })); break;
            case "space": rows[0] = rows[0] with { Predictions = new[] { "i1 i2", "i3", "i4", "i5", "i6" } }; break;
        }
        using var dir = new TempDir();
        var path = dir.File("submission.csv");
        var ex = Assert.Throws<SubmissionValidationException>(() => SubmissionWriter.Write(path, rows, Images));
        Assert.Contains(expectedProblem, ex.Message);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public void RefusalKeepsAnExistingSubmissionIntact()
    {
        using var dir = new TempDir();
        var path = dir.File("submission.csv");
        SubmissionWriter.Write(path, GoodRows(), Images);
        var before = File.ReadAllText(path);
        var bad = GoodRows().Take(2).ToList();
        Assert.Throws<SubmissionValidationException>(() => SubmissionWriter.Write(path, bad, Images));
        Assert.Equal(before, File.ReadAllText(path));
        Assert.Single(Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public void MessageNamesFirstProblemsAndCountsTheRest()
    {
        var images = Enumerable.Range(0, 30).Select(i => $"{i}.jpg").ToArray();
        var rows = images.Select(i => new SubmissionRow(i, new[] { "x" })).ToList();
        var ex = Assert.Throws<SubmissionValidationException>(() => SubmissionWriter.Write("unused.csv", rows, images));
        Assert.Equal(30, ex.Problems.Count);
        Assert.StartsWith("row 1 (image '0.jpg')", ex.Problems[0]);
        Assert.Contains("and 20 more", ex.Message);
    }
}
