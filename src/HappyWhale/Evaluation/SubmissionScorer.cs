using HappyWhale.Data;

namespace HappyWhale.Evaluation;

/// <summary>MAP@5 of a submission file against a labels file, refusing (not guessing) on any mismatch.</summary>
public static class SubmissionScorer
{
    /// <exception cref="CsvFormatException">A bad row, an image missing from the submission, or one without a label.</exception>
    public static double Score(string submissionCsv, string labelsCsv)
    {
        var submission = SubmissionReader.ReadSubmissionWithLines(submissionCsv);
        var labels = SubmissionReader.ReadLabelsWithLines(labelsCsv);
        if (labels.Count == 0)
            throw new CsvFormatException(labelsCsv, 0, "no labelled images to score against");

        var byImage = submission.ToDictionary(r => r.Value.Image, StringComparer.Ordinal);
        var labelled = new HashSet<string>(labels.Select(l => l.Value.Key), StringComparer.Ordinal);

        // Kaggle rejects a submission whose image set differs from the test set; a partial score
        // would be misleading, so both directions are errors.
        foreach (var row in submission)
        {
            if (!labelled.Contains(row.Value.Image))
                throw new CsvFormatException(submissionCsv, row.Line, $"image '{row.Value.Image}' is not in {labelsCsv}");
        }

        var predictions = new List<IReadOnlyList<string>>(labels.Count);
        var truth = new List<string>(labels.Count);
        foreach (var label in labels)
        {
            if (!byImage.TryGetValue(label.Value.Key, out var row))
                throw new CsvFormatException(labelsCsv, label.Line, $"image '{label.Value.Key}' has no row in {submissionCsv}");
            predictions.Add(row.Value.Predictions);
            truth.Add(label.Value.Value);
        }
        return MapAt5.Score(predictions, truth);
    }
}
