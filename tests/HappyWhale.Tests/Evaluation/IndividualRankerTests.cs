using HappyWhale.Evaluation;
using HappyWhale.Data;

namespace HappyWhale.Tests.Evaluation;

public class IndividualRankerTests
{
    private const string New = NewIndividual.Id;
    //                                     0    1    2    3    4    5    6    7
    private static readonly string[] Gallery = { "A", "B", "A", "C", "D", "E", "F", "B" };

    [Fact]
    public void AggregatesByMaxAndKeepsNeighbourOrder()
    {
        var r = new IndividualRanker(Gallery);
        var agg = r.Aggregate(new float[] { 0.9f, 0.8f, 0.7f, 0.6f }, new[] { 2, 7, 0, 1 });
        Assert.Equal(new[] { "A", "B" }, agg.Select(a => a.Id));
        Assert.Equal(new[] { 0.9f, 0.8f }, agg.Select(a => a.Similarity));
    }

    [Fact]
    public void AggregationSortsUnsortedNeighboursStably()
    {
        var r = new IndividualRanker(Gallery);
        var agg = r.Aggregate(new float[] { 0.5f, 0.9f, 0.5f }, new[] { 3, 4, 5 });
        Assert.Equal(new[] { "D", "C", "E" }, agg.Select(a => a.Id));
    }

    [Fact]
    public void InsertsNewIndividualAtFirstRankBelowThreshold()
    {
        var r = new IndividualRanker(Gallery);
        var p = r.Rank(new float[] { 0.9f, 0.8f, 0.7f, 0.6f, 0.5f, 0.4f }, new[] { 0, 1, 3, 4, 5, 6 }, threshold: 0.75f);
        Assert.Equal(new[] { "A", "B", New, "C", "D" }, p.Ids);
        Assert.Equal(new[] { 0.9f, 0.8f, 0.75f, 0.7f, 0.6f }, p.Similarities);
    }

    [Fact]
    public void NewIndividualFirstWhenEverythingIsBelow()
    {
        var r = new IndividualRanker(Gallery);
        var p = r.Rank(new float[] { 0.3f, 0.2f, 0.1f, 0.05f, 0.01f }, new[] { 0, 1, 3, 4, 5 }, threshold: 0.5f);
        Assert.Equal(new[] { New, "A", "B", "C", "D" }, p.Ids);
    }

    [Fact]
    public void NoNewIndividualWhenFiveIndividualsClearTheThreshold()
    {
        var r = new IndividualRanker(Gallery);
        var p = r.Rank(new float[] { 0.9f, 0.8f, 0.7f, 0.6f, 0.55f, 0.1f }, new[] { 0, 1, 3, 4, 5, 6 }, threshold: 0.5f);
        Assert.Equal(new[] { "A", "B", "C", "D", "E" }, p.Ids);
    }

    [Fact]
    public void SimilarityEqualToThresholdStaysAbove()
    {
        var r = new IndividualRanker(Gallery);
        var p = r.Rank(new float[] { 0.5f, 0.4f }, new[] { 0, 1 }, threshold: 0.5f);
        Assert.Equal(new[] { "A", New, "B" }, p.Ids);
    }

    [Fact]
    public void FewIndividualsGetNewIndividualOnceThenFillersWithoutDuplicates()
    {
        var r = new IndividualRanker(Gallery, fillerIds: new[] { "A", New, "E", "F", "B", "C" });
        var p = r.Rank(new float[] { 0.9f, 0.8f, 0.7f }, new[] { 0, 2, 1 }, threshold: 0.1f);
        Assert.Equal(new[] { "A", "B", New, "E", "F" }, p.Ids);
        Assert.True(float.IsNaN(p.Similarities[3]));
    }

    [Fact]
    public void WithoutFillersAShortListIsNeverPaddedWithDuplicates()
    {
        var r = new IndividualRanker(Gallery);
        var p = r.Rank(new float[] { 0.2f, 0.1f }, new[] { 0, 2 }, threshold: 0.5f);
        Assert.Equal(new[] { New, "A" }, p.Ids);
    }

    [Fact]
    public void GalleryRowsLabelledNewIndividualAreIgnored()
    {
        var r = new IndividualRanker(new[] { "A", New, "B" });
        var p = r.Rank(new float[] { 0.9f, 0.8f, 0.7f }, new[] { 1, 0, 2 }, threshold: 0.75f);
        Assert.Equal(new[] { "A", New, "B" }, p.Ids);
    }

    [Fact]
    public void RankAllSplitsRowMajorResults()
    {
        var r = new IndividualRanker(Gallery);
        var all = r.RankAll(new float[] { 0.9f, 0.8f, 0.3f, 0.2f }, new[] { 0, 1, 3, 4 }, k: 2, threshold: 0.5f);
        Assert.Equal(2, all.Count);
        Assert.Equal(new[] { "A", "B", New }, all[0].Ids);
        Assert.Equal(new[] { New, "C", "D" }, all[1].Ids);
    }

    [Fact]
    public void RejectsOutOfRangeGalleryIndex()
    {
        var r = new IndividualRanker(Gallery);
        Assert.Throws<ArgumentOutOfRangeException>(() => r.Rank(new float[] { 0.5f }, new[] { 99 }, 0.5f));
    }
}
