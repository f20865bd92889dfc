using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Evaluation;

/// <summary>Error (%) of a set of episodes: the mean over episodes and its standard error, overall and per species.</summary>
public sealed record EpisodeErrors(double Mean, double StandardError, int Episodes, IReadOnlyDictionary<string, (double Mean, double StandardError, int Episodes)> BySpecies)
{
    /// <summary>Mean and standard error (sample sd / sqrt n; 0 for one episode) of per-episode errors.</summary>
    public static (double Mean, double StandardError) Summarise(IReadOnlyList<double> errors)
    {
        if (errors.Count == 0) return (double.NaN, double.NaN);
        double mean = errors.Average();
        if (errors.Count == 1) return (mean, 0);
        double variance = errors.Sum(e => (e - mean) * (e - mean)) / (errors.Count - 1);
        return (mean, Math.Sqrt(variance / errors.Count));
    }
}

/// <summary>
/// Scores episodes on embeddings: each query takes the individual of its most cosine-similar support image
/// (nearest neighbour; with one shot the same as the nearest individual). An episode's error is the share of
/// its queries answered wrong, in percent.
/// </summary>
public static class EpisodeScorer
{
    /// <param name="embeddings">[pool, d] embeddings of the pool the episodes index (any device; not normalised).</param>
    public static IReadOnlyList<double> ErrorPerEpisode(Tensor embeddings, IReadOnlyList<Episode> episodes)
    {
        using var scope = NewDisposeScope();
        var normalised = nn.functional.normalize(embeddings.to(ScalarType.Float32), p: 2, dim: 1);
        var errors = new List<double>(episodes.Count);
        foreach (var e in episodes)
        {
            using var step = NewDisposeScope();
            var support = normalised.index_select(0, tensor(e.Support.Select(i => (long)i).ToArray(), device: normalised.device));
            var queries = normalised.index_select(0, tensor(e.Queries.Select(i => (long)i).ToArray(), device: normalised.device));
            var nearest = queries.matmul(support.t()).argmax(1).cpu().data<long>().ToArray();
            int wrong = 0;
            for (int q = 0; q < nearest.Length; q++)
                if (e.SupportClass[(int)nearest[q]] != e.QueryClass[q]) wrong++;
            errors.Add(100.0 * wrong / e.Queries.Count);
        }
        return errors;
    }

    public static EpisodeErrors Score(Tensor embeddings, IReadOnlyList<Episode> episodes) =>
        Summarise(episodes, ErrorPerEpisode(embeddings, episodes));

    /// <summary>Mean and standard error of <paramref name="errors"/> (one per episode), overall and per species.</summary>
    public static EpisodeErrors Summarise(IReadOnlyList<Episode> episodes, IReadOnlyList<double> errors)
    {
        var (mean, se) = EpisodeErrors.Summarise(errors);
        var bySpecies = episodes.Select((e, i) => (e.Species, Error: errors[i]))
            .GroupBy(x => x.Species, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g =>
            {
                var list = g.Select(x => x.Error).ToList();
                var (m, s) = EpisodeErrors.Summarise(list);
                return (m, s, list.Count);
            }, StringComparer.Ordinal);
        return new EpisodeErrors(mean, se, errors.Count, bySpecies);
    }
}
