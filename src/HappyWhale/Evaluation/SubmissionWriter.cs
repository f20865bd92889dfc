using System.Text;

namespace HappyWhale.Evaluation;

/// <summary>Writes Kaggle's submission CSV (<c>image,predictions</c>), only if it validates.</summary>
public static class SubmissionWriter
{
    public const string Header = "image,predictions";

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
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        // Same directory as the target so the final rename stays on one file system (atomic).
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var w = new StreamWriter(temp, false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)))
            {
                w.NewLine = "\n";
                w.WriteLine(Header);
                foreach (var row in rows)
                    w.WriteLine($"{row.Image},{string.Join(' ', row.Predictions)}");
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
