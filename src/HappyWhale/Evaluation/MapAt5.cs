namespace HappyWhale.Evaluation;

/// <summary>
/// Kaggle's MAP@5 for single-label images, as used by "Happywhale - Whale and Dolphin Identification".
/// </summary>
/// <remarks>
/// Kaggle defines MAP@5 = 1/U * sum_u sum_{k=1}^{min(n,5)} P(k) * rel(k), and states that once the
/// correct label has been scored for an image it is no longer relevant, so later repeats of it are
/// skipped. With exactly one true label per image this collapses to: 1/rank of the first occurrence
/// of the label among the first five predictions, else 0. Consequences we rely on (and test):
///   - a repeated wrong id still occupies its rank ("a a x" scores 1/3 for label x);
///   - a repeat of the correct id after its first occurrence adds nothing ("x x" scores 1, not 2);
///   - predictions beyond the fifth are ignored; fewer than five are allowed;
///   - new_individual is an ordinary label here: predicting it when it is the truth scores like any id.
/// This matches the reference implementation published with the competition's metric explanation
/// (map_per_image: 1 / (predictions[:5].index(label) + 1), 0 when absent).
/// Comparison is ordinal (case-sensitive), as Kaggle compares strings exactly.
/// </remarks>
public static class MapAt5
{
    public const int Cutoff = 5;

    public static double ScoreOne(IReadOnlyList<string> predictions, string label)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(label);
        int n = Math.Min(Cutoff, predictions.Count);
        for (int i = 0; i < n; i++)
        {
            if (string.Equals(predictions[i], label, StringComparison.Ordinal))
                return 1.0 / (i + 1);
        }
        return 0.0;
    }

    public static double Score(IReadOnlyList<IReadOnlyList<string>> predictions, IReadOnlyList<string> labels)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(labels);
        if (predictions.Count != labels.Count)
            throw new ArgumentException(
                $"MAP@5 needs one prediction list per label: got {predictions.Count} prediction lists for {labels.Count} labels.");
        // An empty set has no mean; returning 0 would silently look like a terrible model.
        if (labels.Count == 0)
            throw new ArgumentException("MAP@5 of an empty set is undefined.", nameof(labels));

        double sum = 0;
        for (int i = 0; i < labels.Count; i++)
            sum += ScoreOne(predictions[i], labels[i]);
        return sum / labels.Count;
    }
}
