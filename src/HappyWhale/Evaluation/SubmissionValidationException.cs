namespace HappyWhale.Evaluation;

/// <summary>A submission that Kaggle would reject or mis-score; lists what is wrong, first problems first.</summary>
public sealed class SubmissionValidationException : Exception
{
    private const int ShownInMessage = 10;

    public IReadOnlyList<string> Problems { get; }

    public SubmissionValidationException(IReadOnlyList<string> problems)
        : base(BuildMessage(problems))
    {
        Problems = problems;
    }

    private static string BuildMessage(IReadOnlyList<string> problems)
    {
        var shown = string.Join(Environment.NewLine + "  ", problems.Take(ShownInMessage));
        var more = problems.Count > ShownInMessage ? $"{Environment.NewLine}  ... and {problems.Count - ShownInMessage} more" : "";
        return $"Submission refused ({problems.Count} problem(s)):{Environment.NewLine}  {shown}{more}";
    }
}
