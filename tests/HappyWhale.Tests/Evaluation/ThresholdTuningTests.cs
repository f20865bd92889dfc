using HappyWhale.Evaluation;
using HappyWhale.Data;

namespace HappyWhale.Tests.Evaluation;

public class ThresholdTuningTests
{
    [Fact]
    public void GridIncludesBothEnds()
    {
        var g = ThresholdTuning.Grid(0.2, 0.8, 4);
        Assert.Equal(4, g.Count);
        Assert.Equal(0.2, g[0], 12);
        Assert.Equal(0.8, g[3], 12);
    }

    [Fact]
    public void FindsTheThresholdThatSeparatesKnownFromNew()
    {
        // Gallery: six individuals. Known queries find their own individual at 0.8; new ones find a
        // stranger at 0.4. Any threshold in (0.4, 0.8] is perfect; 0.5 is the lowest such grid point.
        string[] gallery = { "A", "B", "C", "D", "E", "F" };
        var sims = new List<float>();
        var idx = new List<int>();
        var labels = new List<string>();
        for (int q = 0; q < 10; q++)
        {
            bool known = q % 2 == 0;
            int own = q % 6;
            sims.AddRange(new[] { known ? 0.8f : 0.4f, 0.3f, 0.2f });
            idx.AddRange(new[] { own, (own + 1) % 6, (own + 2) % 6 });
            labels.Add(known ? gallery[own] : NewIndividual.Id);
        }

        var curve = ThresholdTuning.Tune(sims.ToArray(), idx.ToArray(), 3, gallery, labels, ThresholdTuning.Grid(0.0, 1.0, 11));

        Assert.Equal(0.5, curve.BestThreshold, 12);
        Assert.Equal(1.0, curve.BestScore, 12);
        Assert.Equal(11, curve.Scores.Count);
        // Threshold 0: new_individual is appended after the three individuals -> 1/4 for new queries.
        Assert.Equal((5 * 1.0 + 5 * 0.25) / 10, curve.Scores[0], 12);
        // Threshold 0.9: new_individual first for everyone -> known queries get 1/2.
        Assert.Equal((5 * 0.5 + 5 * 1.0) / 10, curve.Scores[9], 12);
        Assert.Equal(1.0, curve.Scores[8], 12); // 0.8 itself: equal to the threshold stays above
    }

    [Fact]
    public void ProductionGridCanPutNewIndividualFirstEvenAboveCosineOne()
    {
        // A collapsed model: every neighbour at float cosine 1.0000001 and most queries new. Only a
        // threshold above 1 answers new_individual first, which is the best this model can do.
        string[] gallery = { "A", "B" };
        float collapsed = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(1f) + 1);
        var labels = new[] { NewIndividual.Id, NewIndividual.Id, NewIndividual.Id, "A" };
        var sims = labels.SelectMany(_ => new[] { collapsed, collapsed }).ToArray();
        var idx = labels.SelectMany(_ => new[] { 1, 0 }).ToArray();

        var curve = ThresholdTuning.Tune(sims, idx, 2, gallery, labels, ValidationScorer.ThresholdGrid);

        Assert.True(curve.BestThreshold > 1.0, $"best threshold {curve.BestThreshold}");
        Assert.Equal((3 * 1.0 + 1.0 / 3) / 4, curve.BestScore, 12);
        Assert.Equal(-0.2, ValidationScorer.ThresholdGrid[0], 12);
        Assert.Equal(0.5, ValidationScorer.ThresholdGrid[70], 12);
    }

    [Fact]
    public void RejectsLabelCountMismatch()
    {
        Assert.Throws<ArgumentException>(() => ThresholdTuning.Tune(new[] { 0.5f }, new[] { 0 }, 1, new[] { "A" }, new[] { "A", "B" }, new[] { 0.5 }));
    }
}
