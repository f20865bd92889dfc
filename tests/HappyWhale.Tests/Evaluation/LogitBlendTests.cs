using HappyWhale.Evaluation;
using TorchSharp;
using static TorchSharp.torch;
using HappyWhale.Data;

namespace HappyWhale.Tests.Evaluation;

public class LogitBlendTests
{
    static IndividualScore S(string id, float s) => new(id, s);

    [Fact]
    public void Weight_zero_is_knn_alone()
    {
        IReadOnlyList<IndividualScore> knn = [S("A", 0.9f), S("B", 0.8f)];
        Assert.Same(knn, LogitBlend.Blend(knn, [S("B", 0.99f)], 0));
    }

    [Fact]
    public void Scores_mix_similarity_and_probability_with_floors_for_what_one_side_lacks()
    {
        // A: kNN 0.9, head 0.1; B: kNN 0.8, head 0.7; C: kNN 0.5, head absent (0); D: head 0.2, kNN absent (floor = lowest kNN, 0.5).
        var blended = LogitBlend.Blend([S("A", 0.9f), S("B", 0.8f), S("C", 0.5f)], [S("B", 0.7f), S("D", 0.2f), S("A", 0.1f)], 0.5);
        Assert.Equal(["B", "A", "D", "C"], blended.Select(s => s.Id));
        Assert.Equal([0.75f, 0.5f, 0.35f, 0.25f], blended.Select(s => s.Similarity));
    }

    [Fact]
    public void Weight_one_ranks_by_the_head()
    {
        var blended = LogitBlend.Blend([S("A", 0.9f), S("B", 0.8f)], [S("B", 0.6f), S("A", 0.3f)], 1);
        Assert.Equal(["B", "A"], blended.Select(s => s.Id));
    }

    [Fact]
    public void Class_head_gives_the_softmax_of_scaled_cosines_best_first()
    {
        // Three classes along the axes; sub-centers: class 1's second centre points at the query.
        using var weight = tensor(new float[] { 1, 0, 0, /**/ 0, 1, 0, /**/ 0, 0, 1, /**/ 0.6f, 0.8f, 0, /**/ 0, 0, 2, /**/ 0, 0, -1 }, [6, 3]);
        using var head = new ClassHead(weight, subCenters: 2, scale: 10, ["x", "y", "z"]);
        using var query = tensor(new float[] { 0.6f, 0.8f, 0 }, [1, 3]);

        var (p, classes, k) = head.Top(query, 5);

        Assert.Equal(3, k);
        // Class scores: max(cos) per class = x: max(0.6, 0.8) via centres (1,0,0),(0,1,0) -> 0.8; y: (0,0,1),(0.6,0.8,0) -> 1; z: (0,0,2),(0,0,-1) -> 0.
        Assert.Equal([1, 0, 2], classes);
        double zx = Math.Exp(8), zy = Math.Exp(10), zz = Math.Exp(0), sum = zx + zy + zz;
        Assert.Equal(zy / sum, p[0], 5);
        Assert.Equal(zx / sum, p[1], 5);
        Assert.Equal(zz / sum, p[2], 5);
    }

    [Fact]
    public void A_head_of_the_wrong_shape_is_refused()
    {
        using var weight = zeros(5, 3);
        Assert.Throws<ArgumentException>(() => new ClassHead(weight, 2, 10, ["a", "b"]));
    }

    [Fact]
    public void The_rescorer_blends_each_query_with_its_own_row()
    {
        using var weight = tensor(new float[] { 1, 0, 0, 1 }, [2, 2]);
        using var head = new ClassHead(weight, 1, 30, ["a", "b"]);
        using var queries = tensor(new float[] { 1, 0, 0, 1 }, [2, 2]);
        var rescore = LogitBlend.For(head, queries, 1, 10)!;
        Assert.Equal("a", rescore(0, [S("b", 0.9f), S("a", 0.1f)])[0].Id);
        Assert.Equal("b", rescore(1, [S("a", 0.9f), S("b", 0.1f)])[0].Id);
        Assert.Null(LogitBlend.For(head, queries, 0, 10));
        Assert.Null(LogitBlend.For(null, queries, 0.5, 10));
    }

    [Fact]
    public void Compose_gives_as_many_answers_as_asked()
    {
        var many = Enumerable.Range(0, 8).Select(i => S($"i{i}", 0.9f - i * 0.1f)).ToList();
        var seven = IndividualRanker.Compose(many, 0.45f, count: 7);
        Assert.Equal(["i0", "i1", "i2", "i3", "i4", NewIndividual.Id, "i5"], seven.Ids);
        Assert.Equal(["i0"], IndividualRanker.Compose(many, 0.45f, count: 1).Ids);
    }
}
