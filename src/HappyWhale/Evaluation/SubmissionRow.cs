namespace HappyWhale.Evaluation;

/// <summary>One line of a submission: a test image and its ranked individual ids.</summary>
public sealed record SubmissionRow(string Image, IReadOnlyList<string> Predictions);
