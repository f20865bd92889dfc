using HappyWhale.Evaluation;
using HappyWhale.Data;

namespace HappyWhale.Tests.Evaluation;

public class MapAt5Tests
{
    private static double One(string label, params string[] predictions) => MapAt5.ScoreOne(predictions, label);

    [Theory]
    [InlineData(1, 1.0)]
    [InlineData(2, 0.5)]
    [InlineData(3, 1.0 / 3)]
    [InlineData(4, 0.25)]
    [InlineData(5, 0.2)]
    public void CorrectAtRankScoresReciprocal(int rank, double expected)
    {
        var preds = new[] { "a", "b", "c", "d", "e" };
        preds[rank - 1] = "x";
        Assert.Equal(expected, MapAt5.ScoreOne(preds, "x"), 12);
    }

    [Fact]
    public void AbsentScoresZero() => Assert.Equal(0.0, One("x", "a", "b", "c", "d", "e"));

    [Fact]
    public void SixthPositionIsIgnored() => Assert.Equal(0.0, One("x", "a", "b", "c", "d", "e", "x"));

    [Fact]
    public void RepeatedWrongIdBeforeCorrectOccupiesRanks() => Assert.Equal(1.0 / 3, One("x", "a", "a", "x"), 12);

    [Fact]
    public void RepeatedCorrectIdAfterItAppearedAddsNothing()
    {
        Assert.Equal(1.0, One("x", "x", "x", "x", "x", "x"));
        Assert.Equal(0.5, One("x", "a", "x", "x", "b", "x"));
    }

    [Fact]
    public void FewerThanFivePredictions()
    {
        Assert.Equal(0.0, One("x"));
        Assert.Equal(0.5, One("x", "a", "x"));
        Assert.Equal(0.0, One("x", "a", "b"));
    }

    [Fact]
    public void NewIndividualIsAnOrdinaryLabel()
    {
        Assert.Equal(1.0, One(NewIndividual.Id, NewIndividual.Id, "a", "b", "c", "d"));
        Assert.Equal(0.25, One(NewIndividual.Id, "a", "b", "c", NewIndividual.Id, "d"));
        Assert.Equal(0.0, One("a", NewIndividual.Id));
    }

    [Fact]
    public void ComparisonIsOrdinal() => Assert.Equal(0.0, One("X", "x"));

    [Fact]
    public void ScoreAveragesOverImages()
    {
        var preds = new IReadOnlyList<string>[] { new[] { "x" }, new[] { "a", "y" }, new[] { "a", "b" } };
        Assert.Equal((1.0 + 0.5 + 0.0) / 3, MapAt5.Score(preds, new[] { "x", "y", "z" }), 12);
    }

    [Fact]
    public void ScoreRejectsMismatchedOrEmptyInput()
    {
        Assert.Throws<ArgumentException>(() => MapAt5.Score(new IReadOnlyList<string>[] { new[] { "x" } }, new[] { "x", "y" }));
        Assert.Throws<ArgumentException>(() => MapAt5.Score(Array.Empty<IReadOnlyList<string>>(), Array.Empty<string>()));
    }
}
