using System.Text;
using HappyWhale.Data;

namespace HappyWhale.Evaluation;

/// <summary>Writes Kaggle's submission CSV (<c>image,predictions</c>), only if it validates.</summary>
public static class SubmissionWriter
{
    /// <summary>
    /// Validates, then writes to a temporary file beside <paramref name="path"/> and renames it into place,
    /// so a refused or interrupted write never leaves a file that looks like a submission.
    /// </summary>
    /// <exception cref="SubmissionValidationException">The rows break a rule; nothing is written.</exception>
    public static void Write(string path, IReadOnlyList<SubmissionRow> rows, IEnumerable<string> expectedImages)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var problems = SubmissionValidator.Validate(rows, expectedImages);
        if (problems.Count > 0)
            throw new SubmissionValidationException(problems);

        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var text = new StringBuilder(SubmissionFormat.Header).Append('\n');
        foreach (var row in rows) text.Append(row.Image).Append(',').AppendJoin(' ', row.Predictions).Append('\n');
        AtomicFile.Write(full, text.ToString());
    }
}
