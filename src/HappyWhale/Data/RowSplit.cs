using HappyWhale.Experiments;
using HappyWhale.Imaging;

namespace HappyWhale.Data;

/// <summary>
/// The experiment's split expressed as rows of a prepared set: training rows with class indices,
/// validation rows, and the class list (individual ids, sorted, so phases agree on indices).
/// </summary>
public sealed record RowSplit(
    IReadOnlyList<int> TrainRows,
    IReadOnlyList<long> TrainLabels,
    IReadOnlyList<string> Classes,
    IReadOnlyList<int> ValidationRows,
    IReadOnlySet<string> HeldOutIndividuals,
    IReadOnlyList<SpeciesMerge> Merges)
{
    /// <summary>The (cleaned) species of every training row, parallel to <see cref="TrainRows"/>.</summary>
    public IReadOnlyList<string> TrainSpecies { get; init; } = [];

    public static RowSplit Build(IReadOnlyList<PreparedRow> rows, DataSpec data)
    {
        var labelled = rows.Where(r => r.Subset == "train").ToList();
        var samples = labelled.Select(r => r.Sample).ToList();
        IReadOnlyList<SpeciesMerge> merges = [];
        if (data.CleanSpecies)
        {
            var cleaned = SpeciesCleaner.Clean(samples);
            samples = cleaned.Samples.ToList();
            merges = cleaned.Merges;
        }
        var counts = samples.GroupBy(s => s.IndividualId).ToDictionary(g => g.Key, g => g.Count());
        samples = samples.Where(s => counts[s.IndividualId] >= data.MinImagesPerId).ToList();
        if (samples.Count == 0)
            throw new UserException($"no training images left after data.min_images_per_id={data.MinImagesPerId}; lower it.");

        var split = FoldSplitter.Split(samples, data.Folds, data.Fold, data.HoldoutIndividuals, data.Seed);
        var rowOf = labelled.ToDictionary(r => r.Image, r => r.Row, StringComparer.Ordinal);
        var classes = split.Train.Select(s => s.IndividualId).Distinct().OrderBy(s => s, StringComparer.Ordinal).ToList();
        var classOf = classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => (long)p.i, StringComparer.Ordinal);
        return new RowSplit(
            split.Train.Select(s => rowOf[s.Image]).ToList(),
            split.Train.Select(s => classOf[s.IndividualId]).ToList(),
            classes,
            split.Validation.Select(s => rowOf[s.Image]).ToList(),
            split.HeldOutIndividuals,
            merges)
        {
            TrainSpecies = split.Train.Select(s => s.Species).ToList(),
        };
    }
}
