using HappyWhale.Data;
using HappyWhale.Experiments;
using HappyWhale.Imaging;

namespace HappyWhale.Training;

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

    /// <summary>The fold's split (every labelled image trains when data.validation_fold is off); held-out species never train.</summary>
    public static RowSplit Build(IReadOnlyList<PreparedRow> rows, DataSpec data) => Build(rows, data, allTrain: !data.ValidationFold);

    /// <summary>
    /// Every labelled image of the subsets trains (the final fit): no validation fold and no held-out
    /// individuals, the same cleaning, subsets and duplicated singletons as <see cref="Build(IReadOnlyList{PreparedRow}, DataSpec)"/>.
    /// </summary>
    public static RowSplit BuildAll(IReadOnlyList<PreparedRow> rows, DataSpec data) => Build(rows, data, allTrain: true);

    static RowSplit Build(IReadOnlyList<PreparedRow> rows, DataSpec data, bool allTrain)
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
        samples = Subset(SpeciesHoldout.Exclude(samples, data), data);

        var split = allTrain
            ? new Split(samples, [], new HashSet<string>(StringComparer.Ordinal))
            : FoldSplitter.Split(samples, data.Folds, data.Fold, data.HoldoutIndividuals, data.Seed);
        var rowOf = labelled.ToDictionary(r => r.Image, r => r.Row, StringComparer.Ordinal);
        var classes = split.Train.Select(s => s.IndividualId).Distinct().OrderBy(s => s, StringComparer.Ordinal).ToList();
        var classOf = classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => (long)p.i, StringComparer.Ordinal);
        var train = split.Train.ToList();
        if (data.DuplicateSingletons)
        {
            var single = train.GroupBy(s => s.IndividualId).Where(g => g.Count() == 1).Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
            train = train.SelectMany(s => single.Contains(s.IndividualId) ? new[] { s, s } : [s]).ToList();
        }
        return new RowSplit(
            train.Select(s => rowOf[s.Image]).ToList(),
            train.Select(s => classOf[s.IndividualId]).ToList(),
            classes,
            split.Validation.Select(s => rowOf[s.Image]).ToList(),
            split.HeldOutIndividuals,
            merges)
        {
            TrainSpecies = train.Select(s => s.Species).ToList(),
        };
    }

    /// <summary>
    /// This split with more training rows labelled with individuals it already has classes for (pseudo-labels:
    /// test photos labelled with their best match); classes and validation stay as they are.
    /// </summary>
    public RowSplit WithExtraRows(IReadOnlyList<(int Row, string IndividualId)> extra)
    {
        var classOf = Classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => (long)p.i, StringComparer.Ordinal);
        var speciesOf = new Dictionary<long, string>();
        for (int i = 0; i < TrainLabels.Count && i < TrainSpecies.Count; i++) speciesOf.TryAdd(TrainLabels[i], TrainSpecies[i]);
        var labels = extra.Select(e => classOf.TryGetValue(e.IndividualId, out long c) ? c
            : throw new ArgumentException($"{e.IndividualId} is not a class of this split")).ToList();
        return this with
        {
            TrainRows = TrainRows.Concat(extra.Select(e => e.Row)).ToList(),
            TrainLabels = TrainLabels.Concat(labels).ToList(),
            TrainSpecies = TrainSpecies.Concat(labels.Select(l => speciesOf.GetValueOrDefault(l, ""))).ToList(),
        };
    }

    /// <summary>
    /// The data subsets, in order: data.species (names after cleaning; empty = all), data.min_images_per_id,
    /// then data.max_individuals (the individuals with most images, ties by id; 0 = all).
    /// </summary>
    public static List<Sample> Subset(IReadOnlyList<Sample> samples, DataSpec data)
    {
        var kept = samples.ToList();
        if (data.Species is { Count: > 0 } species)
        {
            var wanted = species.ToHashSet(StringComparer.Ordinal);
            var present = kept.Select(s => s.Species).ToHashSet(StringComparer.Ordinal);
            var unknown = wanted.Where(w => !present.Contains(w)).ToList();
            if (unknown.Count > 0)
                throw new UserException($"data.species names {string.Join(", ", unknown)}, not in the training labels; " +
                                        $"species present: {string.Join(", ", present.OrderBy(p => p, StringComparer.Ordinal))}.");
            kept = kept.Where(s => wanted.Contains(s.Species)).ToList();
        }
        var counts = kept.GroupBy(s => s.IndividualId).ToDictionary(g => g.Key, g => g.Count());
        kept = kept.Where(s => counts[s.IndividualId] >= data.MinImagesPerId).ToList();
        if (kept.Count == 0)
            throw new UserException($"no training images left after data.min_images_per_id={data.MinImagesPerId}; lower it.");
        if (data.MaxIndividuals > 0)
        {
            var top = counts.Where(kv => kv.Value >= data.MinImagesPerId)
                .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal)
                .Take(data.MaxIndividuals).Select(kv => kv.Key).ToHashSet(StringComparer.Ordinal);
            kept = kept.Where(s => top.Contains(s.IndividualId)).ToList();
        }
        return kept;
    }
}
