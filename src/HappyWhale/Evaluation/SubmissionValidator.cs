namespace HappyWhale.Evaluation;

/// <summary>
/// The rules a submission must satisfy before it is written: the format Kaggle expects, plus the
/// stricter "exactly five distinct ids" we hold ourselves to, since a missing or repeated id is a
/// wasted rank.
/// </summary>
public static class SubmissionValidator
{
    /// <returns>Human-readable problems in row order (missing images last); empty when valid.</returns>
    public static IReadOnlyList<string> Validate(IReadOnlyList<SubmissionRow> rows, IEnumerable<string> expectedImages)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(expectedImages);
        var expected = new HashSet<string>(expectedImages, StringComparer.Ordinal);
        var seenAt = new Dictionary<string, int>(StringComparer.Ordinal);
        var problems = new List<string>();

        for (int r = 0; r < rows.Count; r++)
        {
            var row = rows[r];
            // Row numbers are 1-based data rows (file line = row + 1 because of the header).
            string where = $"row {r + 1} (image '{row?.Image}')";
            if (row is null) { problems.Add($"row {r + 1}: null row"); continue; }

            if (string.IsNullOrWhiteSpace(row.Image) || HasSeparator(row.Image))
                problems.Add($"{where}: image name is empty or contains a comma, quote or whitespace");
            else if (seenAt.TryGetValue(row.Image, out int first))
                problems.Add($"{where}: duplicate of row {first + 1}");
            else
            {
                seenAt[row.Image] = r;
                if (!expected.Contains(row.Image))
                    problems.Add($"{where}: not an expected test image");
            }

            var ids = row.Predictions;
            if (ids is null || ids.Count != MapAt5.Cutoff)
            {
                problems.Add($"{where}: {ids?.Count ?? 0} ids, need exactly {MapAt5.Cutoff}");
                continue;
            }
            var bad = ids.FirstOrDefault(id => string.IsNullOrWhiteSpace(id) || HasSeparator(id));
            if (bad is not null || ids.Any(id => id is null))
                problems.Add($"{where}: id '{bad}' is empty or contains a comma, quote or whitespace");
            else if (ids.Distinct(StringComparer.Ordinal).Count() != ids.Count)
                problems.Add($"{where}: repeated id in '{string.Join(' ', ids)}'");
        }

        foreach (var image in expected.Where(e => !seenAt.ContainsKey(e)).OrderBy(e => e, StringComparer.Ordinal))
            problems.Add($"image '{image}': missing from the submission");
        return problems;
    }

    private static bool HasSeparator(string s) => s.Any(c => c == ',' || c == '"' || char.IsWhiteSpace(c));
}
