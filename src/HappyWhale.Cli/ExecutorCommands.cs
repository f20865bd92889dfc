using System.Globalization;
using HappyWhale.Experiments;
using HappyWhale.Pipeline;
using HappyWhale.Pipeline.Executors;
using HappyWhale.Reporting;
using Spectre.Console;

namespace HappyWhale.Cli;

/// <summary>--executor, --retry, --detach and the verbs status, cancel and stage (what a Slurm job runs).</summary>
static partial class Commands
{
    /// <summary>
    /// With the slurm executor (--executor, else the experiments' `executor`, which must agree), computes the stages not
    /// yet cached as Slurm jobs and waits for them. Returns null to go on with the verb's local code,
    /// which then finds every stage cached and writes reports and MLflow runs as a local run does
    /// (<paramref name="options"/> now reports the jobs' stages as computed); otherwise the exit code.
    /// </summary>
    static int? OnExecutor(CliArgs cli, string repoRoot, string kind, string name, IReadOnlyList<PlannedExperiment> experiments,
        string lastStage, ref PipelineOptions options)
    {
        string? given = cli.Get("executor");
        ExecutorType? chosen = given is null ? null
            : Choice.Parse<ExecutorType>(given) ?? throw new UserException($"--executor={given}: unknown executor; use {string.Join(" or ", Choice.Names<ExecutorType>())}.");
        int retry = Retry(cli);
        bool detach = cli.Has("detach");
        if (detach && retry > 0) throw new UserException("--retry resubmits failed jobs while the command waits; it cannot be combined with --detach.");
        // One executor per command: the local pass after the jobs writes the results of all its experiments.
        var named = experiments.Select(e => e.Experiment.Spec.Executor).Distinct().ToList();
        if (chosen is null && named.Count > 1)
            throw new UserException($"the experiments of this {kind} name different executors ({string.Join(", ", named.Select(Choice.Name))}); choose one with --executor.");
        if ((chosen ?? named.FirstOrDefault()) != ExecutorType.Slurm)
        {
            if (detach || cli.Has("retry")) AnsiConsole.MarkupLine("[yellow]--detach and --retry apply to the slurm executor; running here.[/]");
            return null;
        }

        var view = new JobProgress(repoRoot);
        var request = new SlurmRequest(kind, name, experiments, lastStage, options, ProgramCommand(), retry, detach ? ReportCommand(cli, repoRoot) : null);
        string target = StatusArguments(kind, name);
        ConsoleCancelEventHandler stillRunning = (_, _) =>
            AnsiConsole.MarkupLine($"[yellow]stopped waiting; the jobs keep running: happywhale status {Markup.Escape(target)} / happywhale cancel {Markup.Escape(target)}[/]");
        Console.CancelKeyPress += stillRunning;
        SlurmOutcome outcome;
        try { outcome = new SlurmExecutor(SlurmClient.Require(), view).Run(request); }
        finally { Console.CancelKeyPress -= stillRunning; }

        if (outcome.Detached)
        {
            AnsiConsole.MarkupLine($"submitted {outcome.Jobs.Count - 1} stage job(s) and a report job that writes the results when they complete.");
            AnsiConsole.MarkupLine($"[grey]happywhale status {Markup.Escape(target)}    happywhale cancel {Markup.Escape(target)}[/]");
            return 0;
        }
        if (!outcome.Succeeded)
        {
            int failed = outcome.Failures.Count(f => !f.InputFailed);
            AnsiConsole.MarkupLine($"[red]slurm: {failed} job(s) failed and {outcome.Failures.Count - failed} did not run because of them; " +
                                   "nothing was reported.[/] Run the command again (or with --retry N) to resubmit only the stages still missing; " +
                                   $"[grey]happywhale status {Markup.Escape(target)}[/]");
            return 1;
        }
        // Everything was cached: the local code is then exactly a local run's.
        if (outcome.Jobs.Count == 0) return null;
        AnsiConsole.MarkupLine($"[green]slurm: all {outcome.ComputedKeys.Count} stage(s) computed by jobs[/]; writing the results from the cache");
        options = options with { Gate = new ComputedByJobs(outcome.ComputedKeys, outcome.Devices) };
        return null;
    }

    static PlannedExperiment Planned(CliArgs cli, string file, ResolvedExperiment experiment) =>
        new(ExperimentRef.ForExperiment(file, cli.GetAll("set"), Overlays(cli)), experiment);

    static IReadOnlyList<PlannedExperiment> Planned(string ablationName, AblationSpec ablation) =>
        ablation.Variants.SelectMany(v => v.Runs.Select(r => new PlannedExperiment(ExperimentRef.ForAblationRun(ablationName, v.Name, r.Seed), r.Experiment))).ToList();

    /// <summary>The CI experiments the check runs, at --seed as RegressionSuite loads them (it says which it skips).</summary>
    static IReadOnlyList<PlannedExperiment> PlannedRegression(PipelineOptions options, int? seed) =>
        RegressionSuite.Experiments(options, seed, _ => { })
            .Select(e => new PlannedExperiment(ExperimentRef.ForExperiment(e.Name, seed is { } s ? [string.Create(CultureInfo.InvariantCulture, $"train.seed={s}")] : [], []),
                e.Experiment)).ToList();

    static int Retry(CliArgs cli)
    {
        string? value = cli.Get("retry");
        if (value is null) return 0;
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n > 100)
            throw new UserException($"--retry {value}: give how many times to resubmit failed jobs, a whole number from 0 to 100.");
        return n;
    }

    /// <summary>How a job starts this same program: `dotnet HappyWhale.Cli.dll` (dotnet from the job's PATH), or the apphost.</summary>
    static IReadOnlyList<string> ProgramCommand()
    {
        string host = Environment.ProcessPath ?? "dotnet";
        return Path.GetFileNameWithoutExtension(host) == "dotnet" ? ["dotnet", typeof(Commands).Assembly.Location] : [host];
    }

    /// <summary>This command again, run locally once the jobs are done: every stage is then a cache hit.</summary>
    static IReadOnlyList<string> ReportCommand(CliArgs cli, string repoRoot)
    {
        var args = new List<string> { cli.Verb };
        args.AddRange(cli.Positional);
        foreach (var option in cli.Names.Where(n => n is not ("executor" or "detach" or "retry" or "force" or "repo")))
            args.AddRange(cli.GetAll(option).Select(v => $"--{option}={v}"));
        args.AddRange(["--executor=local", "--repo", repoRoot]);
        return args;
    }

    static string StatusArguments(string kind, string name) => kind switch
    {
        "ablation" => $"--ablation {name}",
        "regression" => "--regression",
        _ => $"--exp {name}",
    };

    /// <summary>Which submission status and cancel mean: --ablation NAME, --exp NAME, --regression, or else the latest of any.</summary>
    static (string? Kind, string? Name) SubmissionTarget(CliArgs cli) =>
        cli.Get("ablation") is { } ablation ? ("ablation", ablation)
        : cli.Get("exp") is { } exp ? ("exp", exp)
        : cli.Has("regression") ? ("regression", "ci")
        : (null, null);

    /// <summary>The latest submission status and cancel mean, its jobs, and their states as Slurm reports them now.</summary>
    sealed record SubmissionNow(string RepoRoot, SlurmSubmission Submission, IReadOnlyList<SubmittedJob> Jobs, SlurmClient Slurm,
        IReadOnlyDictionary<string, JobState> States);

    static SubmissionNow LatestSubmission(CliArgs cli)
    {
        string repoRoot = RepoRoot(cli);
        var (kind, name) = SubmissionTarget(cli);
        var submission = SlurmSubmission.Latest(Path.Combine(repoRoot, "artifacts"), kind, name)
            ?? throw new UserException(kind is null
                ? "no Slurm submission under artifacts/slurm yet; submit with --executor=slurm."
                : $"no Slurm submission of {kind} {name} under artifacts/slurm; submit it with --executor=slurm.");
        var jobs = submission.Jobs();
        var slurm = SlurmClient.Require();
        return new SubmissionNow(repoRoot, submission, jobs, slurm, slurm.States(jobs.Select(j => j.Id).ToList()));
    }

    static int Status(CliArgs cli)
    {
        var (repoRoot, submission, jobs, slurm, states) = LatestSubmission(cli);
        var view = new JobProgress(repoRoot);
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(Path.GetRelativePath(repoRoot, submission.Folder))}[/]" + (submission.Cancelled ? " [yellow](cancelled)[/]" : "") +
                               " [grey](logs in round-N/logs/)[/]");
        AnsiConsole.Write(view.Table(jobs, states));
        AnsiConsole.MarkupLine("jobs: " + JobProgress.Count(jobs, states));
        foreach (var job in jobs)
            if (states.GetValueOrDefault(job.Id) is { IsFailed: true } s && !(s.State == "CANCELLED" && s.Reason.StartsWith("Dependency", StringComparison.Ordinal)))
                view.Failure(new FailedJob(job, s, s.ExitCode ?? slurm.ExitCode(job.Id), SlurmExecutor.LogTail(job.Log), false));
        var stageKeys = jobs.Where(j => j.StageIndex is not null).Select(j => j.Key).ToHashSet();
        var done = jobs.Where(j => j.StageIndex is not null && states.GetValueOrDefault(j.Id) is { IsCompleted: true }).Select(j => j.Key).ToHashSet();
        bool active = jobs.Any(j => states.GetValueOrDefault(j.Id) is not { IsTerminal: true });
        AnsiConsole.MarkupLine($"{done.Count} of {stageKeys.Count} stage(s) computed" + (active ? "; jobs still queued or running" : ""));
        return 0;
    }

    static int Cancel(CliArgs cli)
    {
        var (_, submission, jobs, slurm, states) = LatestSubmission(cli);
        var active = jobs.Where(j => states.GetValueOrDefault(j.Id) is not { IsTerminal: true }).Select(j => j.Id).ToList();
        submission.MarkCancelled();
        slurm.Cancel(active);
        AnsiConsole.MarkupLine(active.Count == 0
            ? "no job of this submission is queued or running; nothing to cancel."
            : $"cancelled {active.Count} job(s): {string.Join(" ", active)}");
        return 0;
    }

    /// <summary>The verb a Slurm job runs: computes one planned stage into the shared cache.</summary>
    static int RunStage(CliArgs cli)
    {
        string stages = cli.Get("stages") ?? throw new UserException("stage is what Slurm jobs run: happywhale stage --stages FILE --index N");
        if (!int.TryParse(cli.Get("index"), NumberStyles.None, CultureInfo.InvariantCulture, out int index))
            throw new UserException($"stage needs --index N (a stage of {stages}); got '{cli.Get("index")}'.");
        StageJob.Run(stages, index, line => AnsiConsole.MarkupLine(Markup.Escape(line)), new ConsoleObserver());
        return 0;
    }
}
