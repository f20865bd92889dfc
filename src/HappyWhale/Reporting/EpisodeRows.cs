using System.Globalization;
using Spectre.Console;

namespace HappyWhale.Reporting;

/// <summary>
/// The summary table's rows for evaluate.episodes: the episode error (%) with its standard error, overall and per
/// held-out species (metrics episode_error, episode_error_se, episode_error_by_species/*, episode_error_se_by_species/*).
/// </summary>
public static class EpisodeRows
{
    const string BySpecies = "episode_error_by_species/", SeBySpecies = "episode_error_se_by_species/";

    public static void AddTo(Table table, IReadOnlyDictionary<string, double> metrics)
    {
        if (!metrics.TryGetValue("episode_error", out double error)) return;
        string shape = metrics.TryGetValue("episode_ways", out double ways) && metrics.TryGetValue("episode_shots", out double shots)
            ? $"{ways:F0}-way {shots:F0}-shot" : "N-way K-shot";
        string count = metrics.TryGetValue("episode_count", out double n) ? $", {n:F0} episodes" : "";
        table.AddRow($"episode error, {shape} on unseen individuals{count}", $"[bold]{Percent(error, metrics.GetValueOrDefault("episode_error_se"))}[/]");
        foreach (var (key, value) in metrics.Where(m => m.Key.StartsWith(BySpecies, StringComparison.Ordinal)).OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            string species = key[BySpecies.Length..];
            table.AddRow($"  {Markup.Escape(species)}", Percent(value, metrics.GetValueOrDefault(SeBySpecies + species)));
        }
    }

    static string Percent(double value, double se) =>
        string.Create(CultureInfo.InvariantCulture, $"{value:F2}% ± {se:F2}");
}
