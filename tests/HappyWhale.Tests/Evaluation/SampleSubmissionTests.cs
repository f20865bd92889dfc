using HappyWhale.Evaluation;

namespace HappyWhale.Tests.Evaluation;

public class SampleSubmissionTests
{
    [Fact]
    public void FixedPredictionsAreNewIndividualThenMostFrequent()
    {
        var train = new[] { "c", "a", "b", "b", "d", "d", "d", "e", "f", "a", "new_individual", "new_individual", "new_individual", "new_individual" };
        Assert.Equal(new[] { "new_individual", "d", "a", "b", "c" }, SampleSubmission.FixedPredictions(train));
    }

    [Fact]
    public void WrittenSampleScoresLikeAnySubmission()
    {
        using var dir = new TempDir();
        var images = new[] { "t1.jpg", "t2.jpg", "t3.jpg", "t4.jpg" };
        var fixedIds = new[] { "new_individual", "d", "a", "b", "c" };
        var sample = dir.File("sample_submission.csv");
        SampleSubmission.Write(sample, images, fixedIds);

        var labels = dir.File("test_labels.csv");
        File.WriteAllLines(labels, new[] { "image,species,individual_id", "t1.jpg,x,new_individual", "t2.jpg,x,a", "t3.jpg,x,zz", "t4.jpg,x,c" });
        Assert.Equal((1.0 + 1.0 / 3 + 0 + 0.2) / 4, SampleSubmission.Score(sample, labels), 12);
        Assert.All(File.ReadAllLines(sample).Skip(1), l => Assert.EndsWith(",new_individual d a b c", l));
    }
}
