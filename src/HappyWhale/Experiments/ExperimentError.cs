namespace HappyWhale.Experiments;

/// <summary>One problem found in an experiment, located at a node of a YAML file or a --set argument.</summary>
/// <remarks>Line and Column are 1-based; Line 0 means the problem has no position (e.g. a missing file).</remarks>
public sealed record ExperimentError(string Source, int Line, int Column, string Message)
{
    public ExperimentError(SourcePosition at, string message) : this(at.Source, at.Line, at.Column, message) { }

    // The compiler-style form lets editors and terminals jump straight to the offending node.
    public override string ToString() =>
        Line > 0 ? $"{Source}:{Line}:{Column}: {Message}" : $"{Source}: {Message}";
}

/// <summary>
/// Thrown when an experiment cannot be loaded. The message is meant for the user as is: every
/// error, one per line, so a single run reports all mistakes instead of one per attempt.
/// </summary>
public sealed class ExperimentException : UserException
{
    public IReadOnlyList<ExperimentError> Errors { get; }

    public ExperimentException(IReadOnlyList<ExperimentError> errors)
        : base(string.Join(Environment.NewLine, errors))
    {
        Errors = errors;
    }

    public ExperimentException(ExperimentError error) : this([error]) { }
}
