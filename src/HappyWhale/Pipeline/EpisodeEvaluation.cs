using System.Globalization;
using System.Text.Json.Nodes;
using HappyWhale.Data;
using HappyWhale.Evaluation;
using HappyWhale.Experiments;
using HappyWhale.Imaging;
using HappyWhale.Training;

namespace HappyWhale.Pipeline;

/// <summary>
/// evaluate.episodes inside the evaluate stage: N-way K-shot episodes on individuals the model never trained on,
/// scored with the same embeddings as validation (the fold's models, flip TTA when configured). The pool is every
/// labelled image of data.holdout_species (training images and, when the source has their labels, test queries);
/// without held-out species it is the validation fold's held-out individuals (data.holdout_individuals).
/// Metrics: episode_error (%), episode_error_se, episode_count, and per species
/// episode_error_by_species/&lt;species&gt; and episode_error_se_by_species/&lt;species&gt;; every episode's error goes
/// to episodes.csv.
/// </summary>
public static class EpisodeEvaluation
{
    public const string EpisodesFile = "episodes.csv";

    /// <summary>One pool image: its prepared row and labels (species as the holdout names them).</summary>
    public sealed record PoolImage(int Row, string Species, string Individual);

    /// <summary>The images episodes are drawn from, in row order.</summary>
    public static IReadOnlyList<PoolImage> Pool(ExperimentSpec spec, IReadOnlyList<PreparedRow> rows, IReadOnlyList<Sample>? testLabels)
    {
        var data = spec.Data;
        if (SpeciesHoldout.IsActive(data))
        {
            var truth = testLabels?.ToDictionary(t => t.Image, StringComparer.Ordinal);
            var pool = new List<PoolImage>();
            foreach (var r in rows)
            {
                var sample = r.Subset == "train" ? r.Sample : truth?.GetValueOrDefault(r.Image);
                if (sample is null || !SpeciesHoldout.IsHeldOut(sample.Species, data)) continue;
                pool.Add(new PoolImage(r.Row, SpeciesHoldout.Name(sample.Species, data), sample.IndividualId));
            }
            return pool;
        }
        var split = RowSplit.Build(rows, data);
        return split.ValidationRows.Select(i => rows[i])
            .Where(r => split.HeldOutIndividuals.Contains(r.IndividualId))
            .Select(r => new PoolImage(r.Row, SpeciesHoldout.Name(r.Species, data), r.IndividualId))
            .OrderBy(p => p.Row)
            .ToList();
    }

    /// <summary>Stops before training when the episodes asked for cannot be drawn from this prepared set.</summary>
    public static void RequirePossible(ExperimentSpec spec, string preparedFolder, IImageSource source)
    {
        var episodes = spec.Evaluate.Episodes;
        if (episodes.Episodes == 0) return;
        var rows = PreparedIndex.Read(Path.Combine(preparedFolder, PreparedIndex.FileName));
        var pool = Pool(spec, rows, source.ReadTestLabels());
        // Sampling one episode checks everything the real draw needs and costs nothing.
        EpisodeSampler.Sample(ToEpisodeImages(pool), episodes.Ways, episodes.Shots, 1, episodes.Seed);
    }

    /// <summary>Embeds the pool with <paramref name="models"/>, scores the episodes and adds the metrics to <paramref name="metrics"/>.</summary>
    public static EpisodeErrors AddTo(JsonObject metrics, ExperimentSpec spec, PreparedSet images, IReadOnlyList<EvaluationModel> models,
        IImageSource source, string folder)
    {
        var settings = spec.Evaluate.Episodes;
        var pool = Pool(spec, images.Rows, source.ReadTestLabels());
        var episodes = EpisodeSampler.Sample(ToEpisodeImages(pool), settings.Ways, settings.Shots, settings.Episodes, settings.Seed);
        var (main, plain) = EvaluateStage.Embed(spec, images, models, pool.Select(p => p.Row).ToList(), progress: null);
        using var _ = main;
        plain?.Dispose();
        var errors = EpisodeScorer.ErrorPerEpisode(main, episodes);
        var scored = EpisodeScorer.Summarise(episodes, errors);

        metrics["episode_error"] = scored.Mean;
        metrics["episode_error_se"] = scored.StandardError;
        metrics["episode_count"] = scored.Episodes;
        metrics["episode_ways"] = settings.Ways;
        metrics["episode_shots"] = settings.Shots;
        foreach (var (species, s) in scored.BySpecies)
        {
            metrics[$"episode_error_by_species/{species}"] = s.Mean;
            metrics[$"episode_error_se_by_species/{species}"] = s.StandardError;
        }
        File.WriteAllLines(Path.Combine(folder, EpisodesFile), new[] { "episode,species,error_percent" }
            .Concat(episodes.Select((e, i) => $"{i},{CsvQuoted(e.Species)},{errors[i].ToString("R", CultureInfo.InvariantCulture)}")));
        return scored;
    }

    static IReadOnlyList<EpisodeImage> ToEpisodeImages(IReadOnlyList<PoolImage> pool) =>
        pool.Select((p, i) => new EpisodeImage(i, p.Species, p.Individual)).ToList();

    static string CsvQuoted(string text) => text.Contains(',') || text.Contains('"') ? $"\"{text.Replace("\"", "\"\"")}\"" : text;
}
