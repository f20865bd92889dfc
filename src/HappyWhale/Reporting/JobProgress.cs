using System.Diagnostics;
using HappyWhale.Pipeline.Executors;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace HappyWhale.Reporting;

/// <summary>
/// The jobs of a Slurm submission as they move from queued to running to done or failed, each with
/// its log: a live table on an interactive terminal; elsewhere (CI logs, redirected output) one line
/// per change of state and a count line with the rate and ETA.
/// </summary>
public sealed class JobProgress(string repoRoot) : IJobView
{
    public void Message(string text) => AnsiConsole.MarkupLine($"[bold]slurm:[/] {Markup.Escape(text)}");

    public void Failure(FailedJob f)
    {
        var job = f.Job;
        if (f.InputFailed)
        {
            AnsiConsole.MarkupLine($"[yellow]job {job.Id} {Markup.Escape(job.Label)} ({ForWhom(job)}): not run, a job it needs failed[/]");
            return;
        }
        string exit = f.ExitCode is null ? "" : $", exit code {f.ExitCode}";
        AnsiConsole.MarkupLine($"[red]job {job.Id} {Markup.Escape(job.Label)} ({ForWhom(job)}): {f.State.State}{exit}[/] [grey](reason {Markup.Escape(f.State.Reason)})[/]");
        if (f.Note is not null) AnsiConsole.MarkupLine($"[red]{Markup.Escape(f.Note)}[/]");
        // Plain lines: a log's lines stay whole (Spectre would wrap them at the console width).
        Console.WriteLine($"log {Relative(job.Log)}, last lines:");
        foreach (var line in f.LogTail) Console.WriteLine("  | " + line);
    }

    public T Follow<T>(IReadOnlyList<SubmittedJob> jobs, Func<Action<IReadOnlyDictionary<string, JobState>>, T> loop)
    {
        var clock = Stopwatch.StartNew();
        if (!AnsiConsole.Profile.Capabilities.Interactive) return FollowInLines(jobs, loop, clock);
        var empty = new Dictionary<string, JobState>();
        T result = default!;
        AnsiConsole.Live(View(jobs, empty, clock.Elapsed)).AutoClear(false).Start(ctx =>
        {
            result = loop(states =>
            {
                ctx.UpdateTarget(View(jobs, states, clock.Elapsed));
                ctx.Refresh();
            });
        });
        return result;
    }

    T FollowInLines<T>(IReadOnlyList<SubmittedJob> jobs, Func<Action<IReadOnlyDictionary<string, JobState>>, T> loop, Stopwatch clock)
    {
        var shown = new Dictionary<string, string>();
        string lastCount = "";
        return loop(states =>
        {
            foreach (var job in jobs)
            {
                string state = StateOf(job, states).State;
                if (shown.TryGetValue(job.Id, out var before) && before == state) continue;
                shown[job.Id] = state;
                Console.WriteLine($"slurm job {job.Id} {job.Label} ({string.Join(", ", job.UsedBy)}): {state}  log {Relative(job.Log)}");
            }
            string count = Count(jobs, states);
            if (count == lastCount) return;
            lastCount = count;
            Console.WriteLine("slurm: " + count + Rate(jobs, states, clock.Elapsed));
        });
    }

    /// <summary>A table of the jobs, as the status verb prints it.</summary>
    public IRenderable Table(IReadOnlyList<SubmittedJob> jobs, IReadOnlyDictionary<string, JobState> states)
    {
        var table = new Table().AddColumn("job").AddColumn("stage").AddColumn("for").AddColumn("state").AddColumn("log");
        foreach (var job in jobs)
        {
            var s = StateOf(job, states);
            string color = s.IsCompleted ? "green" : s.IsFailed ? "red" : s.IsRunning ? "yellow" : "grey";
            string reason = s.State == "PENDING" && s.Reason is not ("None" or "") ? $" ({s.Reason})" : "";
            // The file name only: the folder is the round's logs/, named above the table.
            table.AddRow(job.Id, Markup.Escape(job.Label), ForWhom(job), $"[{color}]{Markup.Escape(s.State + reason)}[/]", $"[grey]{Markup.Escape(Path.GetFileName(job.Log))}[/]");
        }
        return table;
    }

    IRenderable View(IReadOnlyList<SubmittedJob> jobs, IReadOnlyDictionary<string, JobState> states, TimeSpan elapsed) =>
        new Rows(Table(jobs, states), new Markup("[bold]slurm:[/] " + Markup.Escape(Count(jobs, states) + Rate(jobs, states, elapsed))));

    /// <summary>"2 queued, 1 running, 5 done, 0 failed of 8".</summary>
    public static string Count(IReadOnlyList<SubmittedJob> jobs, IReadOnlyDictionary<string, JobState> states)
    {
        var (queued, running, done, failed) = Tally(jobs, states);
        return $"{queued} queued, {running} running, {done} done, {failed} failed of {jobs.Count}";
    }

    /// <summary>" (1.5 jobs/min, ETA 2 min)" once a job is done.</summary>
    static string Rate(IReadOnlyList<SubmittedJob> jobs, IReadOnlyDictionary<string, JobState> states, TimeSpan elapsed)
    {
        var (queued, running, done, _) = Tally(jobs, states);
        double perMinute = done / Math.Max(elapsed.TotalMinutes, 1e-9);
        return done == 0 ? "" : $" ({perMinute:F1} jobs/min, ETA {Eta((queued + running) / perMinute)})";
    }

    static (int Queued, int Running, int Done, int Failed) Tally(IReadOnlyList<SubmittedJob> jobs, IReadOnlyDictionary<string, JobState> states)
    {
        var all = jobs.Select(j => StateOf(j, states)).ToList();
        int done = all.Count(s => s.IsCompleted), failed = all.Count(s => s.IsFailed), running = all.Count(s => s.IsRunning);
        return (all.Count - done - failed - running, running, done, failed);
    }

    static string Eta(double minutes) => minutes < 1 ? $"{minutes * 60:F0} s" : $"{minutes:F0} min";

    static JobState StateOf(SubmittedJob job, IReadOnlyDictionary<string, JobState> states) =>
        states.TryGetValue(job.Id, out var s) ? s : new JobState(job.Id, "SUBMITTED", "");

    static string ForWhom(SubmittedJob job) =>
        Markup.Escape(job.UsedBy.Count switch { 0 => "-", 1 => job.UsedBy[0], var n => $"{job.UsedBy[0]} +{n - 1}" });

    string Relative(string path) => Path.GetRelativePath(repoRoot, path);
}
