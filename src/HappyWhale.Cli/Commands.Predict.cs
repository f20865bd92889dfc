using System.Diagnostics;
using System.Globalization;
using HappyWhale.Evaluation;
using HappyWhale.Pipeline;
using HappyWhale.Reporting;
using Spectre.Console;
using HappyWhale.Data;

namespace HappyWhale.Cli;

static partial class Commands
{
    /// <summary>
    /// predict: the photos' predictions.csv, matches.html (with thumbs/) and matches.png, written into a
    /// temporary sibling of --out and renamed into place at the end, so a failed run leaves no output folder.
    /// </summary>
    static int Predict(CliArgs cli)
    {
        var clock = Stopwatch.StartNew();
        string repoRoot = RepoRoot(cli);
        var experiment = Load(cli, repoRoot);
        var options = Options(cli, repoRoot);
        string images = cli.Get("images") ?? throw new UserException("predict needs --images DIR_OR_ZIP: a folder of photos, a .zip of photos or one photo.");
        int top = IntOption(cli, "top", MapAt5.Cutoff, 1, 100);
        int sheetRows = IntOption(cli, "sheet", 20, 0, 10_000);
        string output = Path.GetFullPath(cli.Get("out")
            ?? Path.Combine(options.ArtifactsRoot, "predict", experiment.Name, DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)));
        if (File.Exists(output) || Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any())
            throw new UserException($"--out {output} already exists; give a new folder (predict never overwrites earlier predictions).");
        AnsiConsole.MarkupLine($"[bold]predict with {Markup.Escape(experiment.Name)}[/] [grey]({Markup.Escape(Path.GetRelativePath(repoRoot, experiment.SourcePath))})[/]");

        using var predictions = PredictStage.Run(experiment, options, new PredictRequest(images, cli.Get("gallery"), top));
        string parent = Path.GetDirectoryName(output)!;
        Directory.CreateDirectory(parent);
        string temp = Path.Combine(parent, $".{Path.GetFileName(output)}.tmp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        try
        {
            PredictionsCsv.Write(temp, predictions);
            MatchPage.Write(temp, predictions);
            MatchSheet.Write(temp, predictions, sheetRows);
            if (Directory.Exists(output)) Directory.Delete(output);   // empty, checked above
            Directory.Move(temp, output);
        }
        catch
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            throw;
        }

        var table = new Table().Title($"first of {predictions.Photos.Count} photo(s)").AddColumn("photo").AddColumn("predictions").AddColumn("similarities");
        foreach (var p in predictions.Photos.Take(10))
            table.AddRow(Markup.Escape(p.Image), Markup.Escape(string.Join(" ", p.Matches.Select(m => m.Id))),
                string.Join(" ", p.Matches.Select(m => PredictionsCsv.Format(m.Similarity))));
        AnsiConsole.Write(table);
        int known = predictions.Photos.Count(p => p.Matches.Count > 0 && p.Matches[0].Id != NewIndividual.Id);
        AnsiConsole.MarkupLine($"{predictions.Photos.Count} photo(s): {known} first matched to a known individual, {predictions.Photos.Count - known} new_individual first " +
                               $"(threshold {predictions.Threshold:F2}); gallery {predictions.GalleryImages} photo(s) of {predictions.GalleryIndividuals} individual(s)");
        string rel(string f) => Markup.Escape(Path.GetRelativePath(Environment.CurrentDirectory, Path.Combine(output, f)));
        AnsiConsole.MarkupLine($"predictions: [bold]{rel(PredictionsCsv.FileName)}[/], page: [bold]{rel(MatchPage.FileName)}[/]" +
                               (sheetRows > 0 ? $", contact sheet: [bold]{rel(MatchSheet.FileName)}[/]" : "") + $" [grey]({clock.Elapsed.TotalSeconds:F1} s)[/]");
        return 0;
    }

    static int IntOption(CliArgs cli, string name, int fallback, int min, int max)
    {
        if (cli.Get(name) is not { } text) return fallback;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < min || value > max)
            throw new UserException($"--{name} {text}: give a whole number from {min} to {max}.");
        return value;
    }
}
