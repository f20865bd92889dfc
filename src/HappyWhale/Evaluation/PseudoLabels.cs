using System.Globalization;
using HappyWhale.Data;

namespace HappyWhale.Evaluation;

/// <summary>A test photo given its best match's label for another round of training.</summary>
public sealed record PseudoLabel(string Image, string IndividualId, float Similarity);

/// <summary>
/// Chooses pseudo-labels: each test photo's best-ranked individual, kept when its similarity reaches
/// the bar, the most similar first (ties by image name), at most a share of the photos.
/// pseudo_labels.csv holds them as image,individual_id,similarity.
/// </summary>
public static class PseudoLabels
{
    static readonly string[] Header = ["image", "individual_id", "similarity"];

    /// <param name="images">the test photos, parallel to <paramref name="ranked"/>.</param>
    /// <param name="ranked">each photo's individuals, best first (kNN aggregate, blended when asked).</param>
    public static IReadOnlyList<PseudoLabel> Choose(IReadOnlyList<string> images, IReadOnlyList<IReadOnlyList<IndividualScore>> ranked,
        double minSimilarity, double maxShare)
    {
        if (images.Count != ranked.Count) throw new ArgumentException($"{images.Count} images but {ranked.Count} rankings.");
        if (maxShare is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(maxShare), maxShare, "must be in [0, 1]");
        int cap = (int)Math.Floor(maxShare * images.Count + 1e-9);
        return images.Select((image, i) => (image, best: ranked[i].Count > 0 ? ranked[i][0] : (IndividualScore?)null))
            .Where(p => p.best is { } b && b.Similarity >= minSimilarity)
            .Select(p => new PseudoLabel(p.image, p.best!.Value.Id, p.best.Value.Similarity))
            .OrderByDescending(l => l.Similarity).ThenBy(l => l.Image, StringComparer.Ordinal)
            .Take(cap).ToList();
    }

    /// <summary>Photos whose best match reaches the bar, before the share cap.</summary>
    public static int Candidates(IReadOnlyList<IReadOnlyList<IndividualScore>> ranked, double minSimilarity) =>
        ranked.Count(r => r.Count > 0 && r[0].Similarity >= minSimilarity);

    public static void Write(string path, IEnumerable<PseudoLabel> labels) =>
        CsvFile.Write(path, Header, labels.Select(l => $"{l.Image},{l.IndividualId},{l.Similarity.ToString("R", CultureInfo.InvariantCulture)}"));

    public static IReadOnlyList<PseudoLabel> Read(string path) =>
        CsvFile.Read(path, Header, [])
            .Select(r => new PseudoLabel(r.Fields[0], r.Fields[1], float.Parse(r.Fields[2], CultureInfo.InvariantCulture))).ToList();
}
