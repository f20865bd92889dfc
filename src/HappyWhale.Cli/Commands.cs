using System.Diagnostics;
using HappyWhale.Evaluation;
using HappyWhale.Experiments;
using HappyWhale.Pipeline;
using HappyWhale.Reporting;
using HappyWhale.Tracking;
using Spectre.Console;

namespace HappyWhale.Cli;

/// <summary>The verbs: each parses its options, calls the library, prints.</summary>
static partial class Commands
{
    const string Usage = """
        happywhale <verb> [options]

          run       --exp NAME [--set key=value]... [--force[=stage,...]]   prepare, train, evaluate, report
          synth     [--exp NAME] [--preview]                                 make the synthetic data set (--preview: contact sheet PNG)
          prepare   --exp NAME ...                                           up to prepare
          train     --exp NAME ...                                           up to train
          evaluate  --exp NAME ...                                           up to evaluate
          predict   --exp NAME --images DIR_OR_ZIP [--gallery DIR_OR_ZIP] [--top 5] [--out DIR] [--sheet 20]
                                                                             identify new photos: predictions.csv, matches.html, matches.png
          ablation  --ablation NAME                                          every variant x seed, then report.md + charts
          regression [--seed N] [--exact]                                    run experiments/ci/ at one seed against baselines.yaml
                     [--update-baselines [--seeds 1,2,3]]                    (or train each seed and rewrite baselines.yaml)
          show      --exp NAME [--set ...]                                   print the resolved experiment
          diff      A B                                                      keys that differ between two experiments
          score     --submission FILE --labels FILE                          MAP@5 of a submission CSV
          sync-tracking [--exp NAME]                                         replay spooled MLflow records, mark dead runs KILLED
          status    [--ablation NAME | --exp NAME | --regression]            the Slurm jobs of the latest submission, failed ones with their log's end
          cancel    [--ablation NAME | --exp NAME | --regression]            cancel those jobs

        NAME is a file under experiments/ (.yaml optional). --overlay NAME applies experiments/overlays/NAME.yaml
        (e.g. --overlay cpu shrinks any experiment to run on a CPU with the synthetic set). --repo DIR names the repository (default: found from here).
        run, its stage verbs, ablation and regression take --executor=local|slurm: slurm computes every stage not yet cached as a Slurm job
        and waits (--retry N resubmits failed jobs; --detach returns at once and a last job writes the results). See docs/slurm.md.
        """;

    public static int Run(CliArgs cli)
    {
        string verb = cli.Verb;
        if (verb is "help" or "--help" or "-h" || cli.Has("help")) { AnsiConsole.WriteLine(Usage); return 0; }
        CliOptions.Check(cli);
        return verb switch
        {
            "run" => RunPipeline(cli, StageNames.Evaluate, report: true),
            "synth" when cli.Has("preview") => SynthPreview(cli),
            "synth" => RunPipeline(cli, StageNames.Synth, report: false, defaultExperiment: "quickstart"),
            "prepare" => RunPipeline(cli, StageNames.Prepare, report: false),
            "train" => RunPipeline(cli, StageNames.Train, report: false),
            "evaluate" => RunPipeline(cli, StageNames.Evaluate, report: false),
            "predict" => Predict(cli),
            "show" => Show(cli),
            "regression" => Regression(cli),
            "ablation" => Ablation(cli),
            "diff" => Diff(cli),
            "score" => Score(cli),
            "status" => Status(cli),
            "cancel" => Cancel(cli),
            "stage" => RunStage(cli),
            "sync-tracking" => SyncTracking(cli.Get("exp") is null ? Environment.GetEnvironmentVariable("MLFLOW_TRACKING_URI") : ExperimentTracking.TrackingUri(Load(cli, RepoRoot(cli))), RepoRoot(cli)),
            _ => throw new UserException($"unknown verb '{verb}'.\n{Usage}"),
        };
    }

    static string RepoRoot(CliArgs cli)
    {
        if (cli.Get("repo") is { } repo) return Path.GetFullPath(repo);
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "experiments", ExperimentLoader.DefaultsFileName))) return dir.FullName;
        throw new UserException("cannot find the HappyWhale repository (a folder with experiments/defaults.yaml) from here; run inside it or pass --repo DIR.");
    }

    static ResolvedExperiment Load(CliArgs cli, string repoRoot, string? fallback = null)
    {
        string name = cli.Get("exp") ?? fallback ?? throw new UserException("this verb needs an experiment: --exp NAME (a file under experiments/).");
        return ExperimentLoader.Load(Path.Combine(repoRoot, "experiments"), name, cli.GetAll("set"), Overlays(cli));
    }

    /// <summary>--overlay cpu (repeatable, or comma-separated): files under experiments/overlays/ applied before --set.</summary>
    static IReadOnlyList<string> Overlays(CliArgs cli) =>
        cli.GetAll("overlay").SelectMany(o => o.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();

    static int RunPipeline(CliArgs cli, string lastStage, bool report, string? defaultExperiment = null)
    {
        var clock = Stopwatch.StartNew();
        string repoRoot = RepoRoot(cli);
        var experiment = Load(cli, repoRoot, defaultExperiment);
        var options = Options(cli, repoRoot);
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(experiment.Name)}[/] [grey]({Markup.Escape(Path.GetRelativePath(repoRoot, experiment.SourcePath))})[/]");
        string file = cli.Get("exp") ?? defaultExperiment!;
        if (OnExecutor(cli, repoRoot, "exp", file, [Planned(cli, file, experiment)], lastStage, ref options) is { } exit) return exit;
        if (!report)
        {
            SummaryTable.Print(new ExperimentPipeline(experiment, options).Run(lastStage), clock.Elapsed);
            return 0;
        }
        using var tracking = OpenTracking(ExperimentTracking.TrackingUri(experiment), repoRoot);
        var (result, runId) = RunTracked(tracking, experiment, options);
        AnsiConsole.MarkupLine($"[grey]MLflow run {runId} in experiment '{Markup.Escape(ExperimentTracking.ExperimentName(experiment))}'[/]");
        SummaryTable.Print(result, clock.Elapsed);
        return 0;
    }

    /// <summary>Tracking for this process: runs of processes that died are ended KILLED first (and pushed with the others).</summary>
    static TrackingSession OpenTracking(string trackingUri, string repoRoot)
    {
        var tracking = TrackingSession.Open(trackingUri, repoRoot, message => AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(message)}[/]"));
        if (tracking.RecoverAbandoned() is { Count: > 0 } killed)
            AnsiConsole.MarkupLine($"[grey]tracking: {killed.Count} abandoned run(s) marked KILLED[/]");
        return tracking;
    }

    /// <summary>One experiment up to evaluate with its live MLflow run; the run folder is written before the run ends.</summary>
    static (PipelineResult Result, string RunId) RunTracked(TrackingSession tracking, ResolvedExperiment experiment, PipelineOptions options, string? parentRunId = null)
    {
        var run = ExperimentTracking.Start(tracking, experiment, options.RepoRoot, parentRunId);
        try
        {
            var result = new ExperimentPipeline(experiment, options, run).Run(StageNames.Evaluate);
            result = result with { RunFolder = RunFolder.Write(options.RunsRoot, experiment, result) };
            run.Finish(result);
            return (result, run.RunId);
        }
        catch (Exception e)
        {
            run.Fail(e);
            throw;
        }
    }

    /// <summary>Marks runs of dead processes KILLED and pushes what the server lacks; prints what it did.</summary>
    static int SyncTracking(string? trackingUri, string repoRoot)
    {
        var r = TrackingSession.Sync(trackingUri, repoRoot, message => AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(message)}[/]"));
        var where = r.Server is null ? "file store" : Markup.Escape(r.Server);
        AnsiConsole.MarkupLine($"[grey]tracking ({where}): {r.Killed.Count} abandoned run(s) marked KILLED; {r.Push.Records} record(s) of {r.Push.Runs} run(s) " +
                               $"sent in {r.Push.Requests} request(s); {r.Push.Pending} run(s) still pending[/]");
        if (r.StoppedBecause is { } why) AnsiConsole.MarkupLine($"[yellow]push stopped: {Markup.Escape(why)}[/]");
        return 0;
    }

    static int SynthPreview(CliArgs cli)
    {
        string repoRoot = RepoRoot(cli);
        var experiment = Load(cli, repoRoot, "quickstart");
        if (experiment.Spec.Data.Source != DataSource.Synthetic) throw new UserException($"synth --preview needs data.source: synthetic; {experiment.Name} reads {Choice.Name(experiment.Spec.Data.Source)}.");
        var options = Options(cli, repoRoot);
        var synth = new ExperimentPipeline(experiment, options).Run(StageNames.Synth).Last(StageNames.Synth)!;
        string path = ContactSheet.Write(synth.Folder, Path.Combine(repoRoot, "artifacts", "reports", "synth_preview.png"));
        AnsiConsole.MarkupLine($"synth preview: [bold]{Markup.Escape(Path.GetRelativePath(repoRoot, path))}[/]");
        return 0;
    }

    static int Ablation(CliArgs cli)
    {
        var clock = Stopwatch.StartNew();
        string repoRoot = RepoRoot(cli);
        string name = cli.Get("ablation") ?? cli.Positional.FirstOrDefault()
            ?? throw new UserException("ablation needs a name: --ablation NAME (a file under experiments/ablations/).");
        var ablation = AblationLoader.Load(Path.Combine(repoRoot, "experiments"), name);
        var options = Options(cli, repoRoot);
        if (OnExecutor(cli, repoRoot, "ablation", name, Planned(name, ablation), StageNames.Evaluate, ref options) is { } exit) return exit;
        var first = ablation.Variants[0].Runs[0].Experiment;

        // MLflow: one parent run for the ablation, a live child run per variant and seed.
        using var tracking = OpenTracking(ExperimentTracking.TrackingUri(first), repoRoot);
        var parent = tracking.StartRun(ExperimentTracking.ExperimentName(first), $"ablation/{ablation.Name}",
            new Dictionary<string, string> { ["happywhale.ablation"] = ablation.Name });
        IReadOnlyList<AblationRun> runs;
        IReadOnlyList<AblationRow> rows;
        string report;
        try
        {
            runs = AblationRunner.Run(ablation, options, line => AnsiConsole.MarkupLine($"[bold]{Markup.Escape(line)}[/]"),
                experiment => RunTracked(tracking, experiment, options, parent.RunId).Result);
            rows = AblationReport.Summarise(ablation, runs);
            report = AblationReport.Write(Path.Combine(options.ArtifactsRoot, "reports", ablation.Name), ablation, runs, rows);
            foreach (var row in rows.Where(r => !double.IsNaN(r.Mean))) parent.LogMetric($"{ablation.Metric}_{row.Variant}", row.Mean);
            foreach (var file in Directory.EnumerateFiles(Path.GetDirectoryName(report)!).Order(StringComparer.Ordinal)) parent.LogArtifact(file);
            parent.End(RunStatus.Finished);
        }
        catch (Exception e)
        {
            parent.Fail(e);
            throw;
        }

        var table = new Table().Title($"ablation {Markup.Escape(ablation.Name)}").AddColumn("variant").AddColumn("changes")
            .AddColumn(new TableColumn($"{ablation.Metric} mean ± sd").RightAligned()).AddColumn(new TableColumn("Δ").RightAligned())
            .AddColumn("beyond noise").AddColumn(new TableColumn("train s").RightAligned());
        foreach (var r in rows)
            table.AddRow(Markup.Escape(r.Variant), Markup.Escape(string.Join(" ", r.Changes)), $"{r.Mean:F4} ± {r.StdDev:F4}",
                $"{r.Delta:+0.0000;-0.0000;0.0000}", r.Significant switch { true => "[green]yes[/]", false => "no", null => "-" }, $"{r.TrainSeconds:F0}");
        AnsiConsole.Write(table);
        int computed = runs.Sum(r => r.Result.Stages.Count(s => s.Outcome == CacheOutcome.Computed));
        AnsiConsole.MarkupLine($"report: [bold]{Markup.Escape(Path.GetRelativePath(repoRoot, report))}[/]; {computed} stage(s) computed, " +
                               $"{runs.Sum(r => r.Result.Stages.Count) - computed} cache hit(s); {clock.Elapsed.TotalSeconds:F0} s");
        return 0;
    }

    static int Regression(CliArgs cli)
    {
        var clock = Stopwatch.StartNew();
        string repoRoot = RepoRoot(cli);
        var options = Options(cli, repoRoot);
        void Log(string line) => AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(line)}[/]");
        if (cli.Has("update-baselines"))
        {
            if (cli.Get("executor") == Choice.Name(ExecutorType.Slurm))
                throw new UserException("--update-baselines trains every seed of every CI experiment here; drop --executor=slurm (the check itself runs on Slurm).");
            var baselines = RegressionSuite.UpdateBaselines(options, cli.Get("seeds") is { } list ? RegressionSuite.ParseSeeds(list) : null, Log);
            var measured = new Table().Title("baselines").AddColumn("experiment").AddColumn("metric").AddColumn("seeds").AddColumn("values")
                .AddColumn(new TableColumn("mean ± sd").RightAligned()).AddColumn(new TableColumn("fails below").RightAligned());
            foreach (var b in baselines)
                measured.AddRow(Markup.Escape(b.Experiment), b.Metric, string.Join(", ", b.Seeds), string.Join(", ", b.Values.Select(v => v.ToString("F4"))),
                    $"{b.Mean:F4} ± {b.StdDev:F4}", $"{b.Threshold:F4}");
            AnsiConsole.Write(measured);
            AnsiConsole.MarkupLine($"baselines rewritten: {Markup.Escape(Path.GetRelativePath(repoRoot, RegressionSuite.BaselinesPath(repoRoot)))} [grey]({clock.Elapsed.TotalSeconds:F0} s)[/]");
            return 0;
        }
        int? seed = cli.Get("seed") is not { } text ? null
            : int.TryParse(text, out int s) && s >= 0 ? s : throw new UserException($"--seed={text}: a training seed is a whole number >= 0.");
        bool exact = cli.Has("exact");
        if (OnExecutor(cli, repoRoot, "regression", "ci", PlannedRegression(options, seed), StageNames.Evaluate, ref options) is { } exit) return exit;
        var outcome = RegressionSuite.Run(options, seed, exact, Log);
        var table = new Table().Title(exact ? "regression (--exact: the recorded value of the seed, bit for bit)" : "regression")
            .AddColumn("experiment").AddColumn("metric").AddColumn(new TableColumn("seed").RightAligned())
            .AddColumn(new TableColumn(exact ? "recorded" : "baseline mean ± sd").RightAligned())
            .AddColumn(new TableColumn(exact ? "" : "fails below").RightAligned())
            .AddColumn(new TableColumn("now").RightAligned()).AddColumn(new TableColumn("change").RightAligned()).AddColumn("status");
        foreach (var r in outcome.Rows)
            table.AddRow(Markup.Escape(r.Experiment), r.Metric, $"{r.Seed}",
                exact ? (r.Expected is { } e ? e.ToString("R") : "not recorded") : $"{r.Baseline.Mean:F4} ± {r.Baseline.StdDev:F4}",
                exact ? "" : $"{r.Baseline.Threshold:F4}",
                r.Actual is { } a ? (exact ? a.ToString("R") : $"{a:F4}") : "missing", r.Change is { } c ? $"{c:+0.0000;-0.0000;0.0000}" : "",
                r.Fell ? "[red]FELL[/]" : "[green]ok[/]");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"[grey]{clock.Elapsed.TotalSeconds:F0} s[/]");
        if (outcome.Rows.Count == 0)
            throw new UserException($"no baselines to compare with in {RegressionSuite.BaselinesPath(repoRoot)}; create them with --update-baselines.");
        if (outcome.Failed)
        {
            AnsiConsole.MarkupLine(exact
                ? $"[red]regression --exact: {outcome.Rows.Count(r => r.Fell)} metric(s) differ from the value recorded for their seed[/]"
                : $"[red]regression: {outcome.Rows.Count(r => r.Fell)} metric(s) fell below mean - max(3 sd, floor) of their baseline[/]");
            return 3;
        }
        return 0;
    }

    static int Show(CliArgs cli)
    {
        var experiment = Load(cli, RepoRoot(cli));
        Console.Write(experiment.ToYaml());
        return 0;
    }

    static int Diff(CliArgs cli)
    {
        if (cli.Positional.Count != 2) throw new UserException("diff needs two experiments: happywhale diff A B");
        string repoRoot = RepoRoot(cli);
        string dir = Path.Combine(repoRoot, "experiments");
        var a = ExperimentLoader.Load(dir, cli.Positional[0], cli.GetAll("set"));
        var b = ExperimentLoader.Load(dir, cli.Positional[1], cli.GetAll("set"));
        var table = new Table().AddColumn("key").AddColumn(Markup.Escape(a.Name)).AddColumn(Markup.Escape(b.Name));
        foreach (var d in ExperimentDiff.Diff(a, b).Where(d => d.Key is not ("name" or "description")))
            table.AddRow(Markup.Escape(d.Key), Markup.Escape(d.A ?? "(absent)"), Markup.Escape(d.B ?? "(absent)"));
        AnsiConsole.Write(table);

        // The metrics of each experiment's latest finished run in the MLflow journal (the local store, also with a server).
        var store = TrackingSession.JournalRoot(ExperimentTracking.TrackingUri(a), repoRoot);
        if (Directory.Exists(store))
        {
            var reader = new MlflowFileStoreReader(store);
            IReadOnlyDictionary<string, double> Latest(ResolvedExperiment e)
            {
                // ListRuns is empty when the experiment does not exist.
                var run = reader.ListRuns(ExperimentTracking.ExperimentName(e)).FirstOrDefault(r => r.RunName == e.Name && r.Status == RunStatus.Finished);
                return run is null ? new Dictionary<string, double>() : reader.ReadLatestMetrics(run);
            }
            var ma = Latest(a);
            var mb = Latest(b);
            var metrics = new Table().AddColumn("metric (latest run)").AddColumn(Markup.Escape(a.Name)).AddColumn(Markup.Escape(b.Name)).AddColumn("change");
            foreach (var key in ma.Keys.Union(mb.Keys).Where(k => !k.Contains('/') && !k.StartsWith("lr") && !k.StartsWith("train_") && k != "images_per_second").Order())
                metrics.AddRow(Markup.Escape(key), ma.TryGetValue(key, out var va) ? $"{va:F4}" : "-", mb.TryGetValue(key, out var vb) ? $"{vb:F4}" : "-",
                    ma.ContainsKey(key) && mb.ContainsKey(key) ? $"{mb[key] - ma[key]:+0.0000;-0.0000;0.0000}" : "");
            if (ma.Count + mb.Count == 0) AnsiConsole.MarkupLine("[grey]no finished runs of these experiments in MLflow yet: run them to compare metrics.[/]");
            else AnsiConsole.Write(metrics);
        }
        return 0;
    }

    static int Score(CliArgs cli)
    {
        string submission = cli.Get("submission") ?? throw new UserException("score needs --submission FILE");
        string labels = cli.Get("labels") ?? throw new UserException("score needs --labels FILE (image,individual_id)");
        foreach (var f in new[] { submission, labels })
            if (!File.Exists(f)) throw new UserException($"file not found: {f}");
        try
        {
            AnsiConsole.MarkupLine($"MAP@5 = [bold]{SubmissionScorer.Score(submission, labels):F5}[/]");
        }
        catch (FormatException e) { throw new UserException(e.Message, e); }
        catch (InvalidDataException e) { throw new UserException(e.Message, e); }
        return 0;
    }

    /// <summary>--force[=stages] and --verify, as every pipeline verb reads them; the pipelines draw on the console.</summary>
    static PipelineOptions Options(CliArgs cli, string repoRoot) =>
        new(repoRoot, PipelineOptions.ParseForce(cli.Get("force")), cli.Has("verify")) { Display = new ConsoleObserver() };
}
