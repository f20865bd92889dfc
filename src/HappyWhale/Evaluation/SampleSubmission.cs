using HappyWhale.Data;

namespace HappyWhale.Evaluation;

/// <summary>
/// The competition's sample submission: the same five ids for every test image. Its score is the
/// floor any model must beat, so every evaluation reports it beside the model's score.
/// </summary>
public static class SampleSubmission
{
    /// <summary>
    /// The fixed predictions we use when generating a sample submission: new_individual first (the
    /// single most common test answer), then the four individuals with the most training images
    /// (ties broken by id so the choice is deterministic).
    /// </summary>
    public static IReadOnlyList<string> FixedPredictions(IEnumerable<string> trainIndividualIds)
    {
        ArgumentNullException.ThrowIfNull(trainIndividualIds);
        var top = trainIndividualIds
            .Where(id => id != NewIndividual.Id)
            .GroupBy(id => id, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count())
            .ThenBy(g => g.Key, StringComparer.Ordinal)
            .Take(MapAt5.Cutoff - 1)
            .Select(g => g.Key);
        var ids = new List<string> { NewIndividual.Id };
        ids.AddRange(top);
        if (ids.Count < MapAt5.Cutoff)
            throw new ArgumentException($"need at least {MapAt5.Cutoff - 1} distinct training individuals for a sample submission, got {ids.Count - 1}.");
        return ids;
    }

    /// <summary>Writes <c>sample_submission.csv</c>: every test image gets <paramref name="fixedPredictions"/>.</summary>
    public static void Write(string path, IReadOnlyList<string> testImages, IReadOnlyList<string> fixedPredictions)
    {
        ArgumentNullException.ThrowIfNull(testImages);
        var rows = testImages.Select(image => new SubmissionRow(image, fixedPredictions)).ToList();
        SubmissionWriter.Write(path, rows, testImages);
    }

    /// <summary>MAP@5 of a sample submission file: scored exactly like any other submission.</summary>
    public static double Score(string sampleSubmissionCsv, string labelsCsv)
        => SubmissionScorer.Score(sampleSubmissionCsv, labelsCsv);
}
