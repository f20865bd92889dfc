using HappyWhale.Data;

namespace HappyWhale.Tests.Data;

public class FoldSplitterTests
{
    // 40 singletons and 60 individuals with 2..7 images.
    static List<Sample> Samples()
    {
        var list = new List<Sample>();
        for (int i = 0; i < 40; i++) list.Add(new($"s{i:D3}.jpg", "beluga", $"single{i:D3}"));
        for (int i = 0; i < 60; i++)
            for (int k = 0; k < 2 + i % 6; k++) list.Add(new($"m{i:D3}_{k}.jpg", "beluga", $"multi{i:D3}"));
        return list;
    }

    [Fact]
    public void Every_image_is_in_exactly_one_side()
    {
        var samples = Samples();
        var split = FoldSplitter.Split(samples, 5, 2, 0.1, 42);
        Assert.Equal(samples.Count, split.Train.Count + split.Validation.Count);
        Assert.Empty(split.Train.Select(s => s.Image).Intersect(split.Validation.Select(s => s.Image)));
    }

    [Fact]
    public void Held_out_individuals_never_train_and_are_wholly_in_validation()
    {
        var samples = Samples();
        for (int fold = 0; fold < 5; fold++)
        {
            var split = FoldSplitter.Split(samples, 5, fold, 0.1, 42);
            Assert.Equal(6, split.HeldOutIndividuals.Count);
            Assert.DoesNotContain(split.Train, s => split.HeldOutIndividuals.Contains(s.IndividualId));
            foreach (var id in split.HeldOutIndividuals)
                Assert.Equal(samples.Count(s => s.IndividualId == id), split.Validation.Count(s => s.IndividualId == id));
        }
    }

    [Fact]
    public void Singletons_always_train_and_kept_individuals_keep_a_training_image()
    {
        var samples = Samples();
        for (int fold = 0; fold < 5; fold++)
        {
            var split = FoldSplitter.Split(samples, 5, fold, 0.1, 42);
            Assert.Equal(40, split.Train.Count(s => s.IndividualId.StartsWith("single")));
            var trainIds = split.Train.Select(s => s.IndividualId).ToHashSet();
            Assert.All(split.Validation.Where(s => !split.HeldOutIndividuals.Contains(s.IndividualId)),
                s => Assert.Contains(s.IndividualId, trainIds));
        }
    }

    [Fact]
    public void Images_of_an_individual_spread_across_folds()
    {
        var samples = Samples();
        var validationIds = Enumerable.Range(0, 5)
            .Select(f => FoldSplitter.Split(samples, 5, f, 0.0, 42).Validation.Select(s => s.Image).ToHashSet())
            .ToList();
        // With no hold-out, the validation folds partition the multi-image individuals' images.
        Assert.Equal(samples.Count - 40, validationIds.Sum(v => v.Count));
        Assert.Equal(samples.Count - 40, validationIds.SelectMany(v => v).Distinct().Count());
        // An individual with 5+ images has one image in every fold.
        var big = samples.Where(s => s.IndividualId == "multi003").Select(s => s.Image).ToList();
        Assert.Equal(5, big.Count);
        Assert.All(validationIds, v => Assert.Single(big, v.Contains));
    }

    [Fact]
    public void Same_seed_same_split_and_different_fold_different_validation()
    {
        var samples = Samples();
        var a = FoldSplitter.Split(samples, 5, 1, 0.1, 42);
        var b = FoldSplitter.Split(samples, 5, 1, 0.1, 42);
        Assert.Equal(a.Train, b.Train);
        Assert.Equal(a.Validation, b.Validation);

        var c = FoldSplitter.Split(samples, 5, 2, 0.1, 42);
        Assert.NotEqual(a.Validation.Select(s => s.Image).ToHashSet(), c.Validation.Select(s => s.Image).ToHashSet());
        Assert.Empty(a.HeldOutIndividuals.Intersect(c.HeldOutIndividuals));

        var d = FoldSplitter.Split(samples, 5, 1, 0.1, 43);
        Assert.NotEqual(a.Validation, d.Validation);
    }
}
