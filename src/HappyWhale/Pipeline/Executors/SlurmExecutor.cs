using System.Globalization;
using System.Text.Json;
using HappyWhale.Experiments;

namespace HappyWhale.Pipeline.Executors;

/// <summary>An experiment to plan, with the reference a job loads it back from.</summary>
public sealed record PlannedExperiment(ExperimentRef Reference, ResolvedExperiment Experiment);

/// <summary>What one submitting command asks of Slurm.</summary>
/// <param name="Kind">exp, ablation or regression (names the submission folder)</param>
/// <param name="Program">how a job starts the happywhale program (e.g. dotnet path/HappyWhale.Cli.dll)</param>
/// <param name="Retry">rounds of resubmission after jobs fail</param>
/// <param name="ReportCommand">with --detach: the program arguments of a last job that writes the report once every stage job completed</param>
public sealed record SlurmRequest(
    string Kind,
    string Name,
    IReadOnlyList<PlannedExperiment> Experiments,
    string LastStage,
    PipelineOptions Options,
    IReadOnlyList<string> Program,
    int Retry = 0,
    IReadOnlyList<string>? ReportCommand = null);

/// <summary>A job that did not leave its cache entry: its Slurm state, exit code and the end of its log.</summary>
/// <param name="InputFailed">never ran: a job it depended on failed</param>
public sealed record FailedJob(SubmittedJob Job, JobState State, string? ExitCode, IReadOnlyList<string> LogTail, bool InputFailed, string? Note = null);

/// <param name="Devices">stage key -> the device the job that computed it used</param>
public sealed record SlurmOutcome(
    SlurmSubmission? Submission,
    bool Succeeded,
    bool Detached,
    IReadOnlySet<string> ComputedKeys,
    IReadOnlyDictionary<string, string> Devices,
    IReadOnlyList<SubmittedJob> Jobs,
    IReadOnlyList<FailedJob> Failures);

/// <summary>Where the executor shows what happens: messages, failures, and the jobs while it waits.</summary>
public interface IJobView
{
    void Message(string text);
    void Failure(FailedJob failure);

    /// <summary>Runs the wait loop inside the view (a live table on a terminal); the loop reports every poll through the callback.</summary>
    T Follow<T>(IReadOnlyList<SubmittedJob> jobs, Func<Action<IReadOnlyDictionary<string, JobState>>, T> loop);
}

/// <summary>
/// The slurm executor: plans the stage graph of the experiments (every key not cached becomes one
/// job, or one task of a job array), submits the jobs with afterok dependencies on the jobs computing
/// their inputs, waits for them, and with --retry resubmits what did not complete (a killed training
/// job resumes from its last epoch checkpoint in the shared cache). It computes nothing itself; the
/// caller then runs the local code, which finds every stage cached and writes reports as always.
/// </summary>
public sealed class SlurmExecutor(SlurmClient slurm, IJobView view, TimeSpan? poll = null)
{
    const int LogTailLines = 20;
    readonly TimeSpan _poll = poll ?? TimeSpan.FromSeconds(3);

    public SlurmOutcome Run(SlurmRequest request)
    {
        SlurmSubmission? submission = null;
        var computed = new HashSet<string>(StringComparer.Ordinal);
        var devices = new Dictionary<string, string>(StringComparer.Ordinal);
        var all = new List<SubmittedJob>();
        var failures = new List<FailedJob>();
        // Rounds: the first submission; a retry after a round with failures; the next wave when some keys could only be
        // planned once earlier jobs had computed what they depend on. Each round plans from the cache as it is then.
        for (int round = 1, retries = 0; ; round++)
        {
            var planner = new StagePlanner(request.Options, computed);
            foreach (var e in request.Experiments) planner.Add(e.Reference, e.Experiment, request.LastStage);
            var stages = planner.Jobs;
            if (stages.Count == 0)
            {
                if (round == 1) view.Message($"every stage is cached ({planner.Cached}): nothing to submit");
                return new SlurmOutcome(submission, true, false, computed, devices, all, []);
            }
            if (request.ReportCommand is not null && planner.Waiting.Count > 0)
                throw new UserException($"--detach: the keys of some stages depend on results of others ({string.Join("; ", planner.Waiting)}; " +
                                        "train.final_fit takes its epochs from the fold run), so they can only be planned when those jobs end. " +
                                        "Run without --detach: the command then submits them in waves.");
            // Created once there is something to submit: planning can still stop on bad input.
            submission ??= SlurmSubmission.Create(request.Options.ArtifactsRoot, request.Kind, request.Name);
            string what = round == 1 ? "submitting" : failures.Count > 0 ? $"retry {retries}/{request.Retry}: resubmitting" : $"round {round}: submitting";
            string later = planner.Waiting.Count > 0 ? $"; more once these end ({string.Join("; ", planner.Waiting)})" : "";
            view.Message($"{what} {stages.Count} stage(s) as Slurm jobs ({planner.Cached} cached stage(s) need none{later}); " +
                         $"scripts and logs in {Path.GetRelativePath(request.Options.RepoRoot, submission.RoundFolder(round))}/");
            var jobs = new List<SubmittedJob>();
            try
            {
                Submit(submission, round, stages, request, jobs);
                if (request.ReportCommand is not null)
                {
                    jobs.Add(SubmitReport(submission, round, jobs, request));
                    submission.WriteJobs(round, jobs);
                    return new SlurmOutcome(submission, true, true, computed, devices, [.. all, .. jobs], []);
                }
            }
            catch (UserException)
            {
                // sbatch refused a job (bad partition, account, time...): a round runs whole or not at all, and a
                // first round that never ran leaves no submission behind.
                try { slurm.Cancel(jobs.Select(j => SlurmClient.JobIdOf(j.Id)).Distinct().ToList()); } catch (UserException) { }
                if (round == 1) submission.Delete();
                throw;
            }
            all.AddRange(jobs);

            var states = view.Follow(jobs, update => Wait(jobs, update));
            failures = [];
            foreach (var job in jobs)
            {
                var stage = stages[job.StageIndex!.Value];
                var state = states.GetValueOrDefault(job.Id) ?? JobState.Unknown;
                if (state.IsCompleted && EntryExists(stage))
                {
                    computed.Add(job.Key);
                    string device = SlurmSubmission.DeviceFile(submission.StagesPath(round), stage.Index);
                    if (File.Exists(device)) devices[job.Key] = File.ReadAllText(device);
                }
                else failures.Add(Describe(job, state, stage));
            }
            if (failures.Count == 0) continue;
            foreach (var f in failures) view.Failure(f);
            if (submission.Cancelled)
            {
                view.Message("the jobs were cancelled with `happywhale cancel`: not resubmitting");
                break;
            }
            if (retries++ == request.Retry) break;
        }
        return new SlurmOutcome(submission, false, false, computed, devices, all, failures);
    }

    /// <summary>Submits the round's stages, adding each job to <paramref name="jobs"/> as soon as Slurm has it.</summary>
    void Submit(SlurmSubmission submission, int round, IReadOnlyList<PlannedStage> stages, SlurmRequest request, List<SubmittedJob> jobs)
    {
        string repo = request.Options.RepoRoot;
        string stagesPath = submission.WriteStages(round, new RoundPlan(repo, stages));
        string folder = submission.RoundFolder(round);
        Directory.CreateDirectory(Path.Combine(folder, "scripts"));
        var jobOf = new Dictionary<int, string>();
        foreach (var group in Groups(stages))
        {
            var first = group[0];
            bool array = group.Count > 1;
            string name = array ? $"hw-{first.Stage}-x{group.Count}" : $"hw-{first.Stage}-{first.ShortKey}";
            string log = Path.Combine(folder, "logs", array ? $"{first.Index:D3}-{first.Stage}-array.%A_%a.out" : $"{first.Index:D3}-{first.Stage}-{first.ShortKey}.%j.out");
            string index = array ? "$TASK_STAGE" : first.Index.ToString(CultureInfo.InvariantCulture);
            var command = request.Program.Concat(["stage", "--stages", stagesPath, "--index", index, "--repo", repo]).ToList();
            string script = Path.Combine(folder, "scripts", $"{first.Index:D3}-{first.Stage}.sbatch");
            File.WriteAllText(script, SbatchScript.Text(first.Slurm, first.Stage, name, log, repo, command, array ? group.Select(g => g.Index).ToList() : null));
            var after = group.SelectMany(g => g.DependsOn).Distinct().Select(i => jobOf[i]).ToList();
            string id = slurm.Submit(script, after, folder, string.Join(", ", group.Select(g => $"{g.Label} of {string.Join(", ", g.UsedBy)}")));
            for (int task = 0; task < group.Count; task++)
            {
                var stage = group[task];
                string jobId = array ? $"{id}_{task}" : id;
                jobOf[stage.Index] = jobId;
                string taskLog = log.Replace("%A", id).Replace("%a", task.ToString(CultureInfo.InvariantCulture)).Replace("%j", id);
                jobs.Add(new SubmittedJob(round, jobId, stage.Label, stage.Stage, stage.Key, stage.Index, taskLog, stage.UsedBy.ToList()));
            }
            // Written as it grows, so `happywhale cancel` finds every job even if this command dies mid-submission.
            submission.WriteJobs(round, jobs);
        }
    }

    /// <summary>
    /// One job per stage; with slurm.array_parallelism, stages of one kind with the same inputs and
    /// settings share a job array. Groups come in the order of their first stage, and every stage's
    /// inputs come before it, so each group's dependencies are submitted before the group.
    /// </summary>
    static List<List<PlannedStage>> Groups(IReadOnlyList<PlannedStage> stages)
    {
        var groups = new List<List<PlannedStage>>();
        var open = new Dictionary<string, List<PlannedStage>>(StringComparer.Ordinal);
        foreach (var s in stages)
        {
            if (s.Slurm.ArrayParallelism <= 0) { groups.Add([s]); continue; }
            string key = $"{s.Stage}|{string.Join(',', s.DependsOn)}|{s.CacheRoot}|{JsonSerializer.Serialize(s.Slurm)}";
            if (open.TryGetValue(key, out var group)) group.Add(s);
            else { open[key] = group = [s]; groups.Add(group); }
        }
        return groups;
    }

    /// <summary>With --detach: a last job, after every stage job, runs the command again locally to write the report and MLflow runs.</summary>
    SubmittedJob SubmitReport(SlurmSubmission submission, int round, IReadOnlyList<SubmittedJob> jobs, SlurmRequest request)
    {
        string folder = submission.RoundFolder(round);
        string log = Path.Combine(folder, "logs", "report.%j.out");
        string script = Path.Combine(folder, "scripts", "report.sbatch");
        var settings = request.Experiments[0].Experiment.Spec.Slurm;
        File.WriteAllText(script, SbatchScript.Text(settings, null, $"hw-report-{request.Kind}", log, request.Options.RepoRoot,
            request.Program.Concat(request.ReportCommand!).ToList()));
        string id = slurm.Submit(script, jobs.Select(j => j.Id).ToList(), folder, "the report");
        return new SubmittedJob(round, id, $"report ({request.Kind} {request.Name})", "report", "", null, log.Replace("%j", id), []);
    }

    IReadOnlyDictionary<string, JobState> Wait(IReadOnlyList<SubmittedJob> jobs, Action<IReadOnlyDictionary<string, JobState>> update)
    {
        var ids = jobs.Select(j => j.Id).ToList();
        var last = new Dictionary<string, JobState>(StringComparer.Ordinal);
        while (true)
        {
            foreach (var (id, state) in slurm.States(ids))
                if (ids.Contains(id)) last[id] = state;
            // Without --kill-on-invalid-dep honoured, a job whose input failed would stay pending for ever.
            var orphans = last.Values.Where(s => s.IsOrphaned).Select(s => s.Id).ToList();
            if (orphans.Count > 0)
            {
                slurm.Cancel(orphans);
                foreach (var id in orphans) last[id] = last[id] with { State = "CANCELLED" };
            }
            update(last);
            if (ids.All(id => last.TryGetValue(id, out var s) && s.IsTerminal)) return last;
            Thread.Sleep(_poll);
        }
    }

    static bool EntryExists(PlannedStage stage) =>
        CacheManifest.TryRead(Path.Combine(stage.CacheRoot, stage.Stage, stage.Key)) is { } manifest && manifest.Key == stage.Key;

    FailedJob Describe(SubmittedJob job, JobState state, PlannedStage stage)
    {
        bool inputFailed = state.State == "CANCELLED" && state.Reason.StartsWith("Dependency", StringComparison.Ordinal);
        if (inputFailed) return new FailedJob(job, state, null, [], true);
        string? note = state.IsCompleted
            ? $"the job ended well but its cache entry is not at {Path.Combine(stage.CacheRoot, stage.Stage, stage.Key)}: " +
              "does this machine see the same cache.root as the nodes (docs/slurm.md)?"
            : null;
        return new FailedJob(job, state, state.ExitCode ?? slurm.ExitCode(job.Id), LogTail(job.Log), false, note);
    }

    public static IReadOnlyList<string> LogTail(string path)
    {
        if (!File.Exists(path)) return [$"(no log at {path}: the job did not start)"];
        var lines = File.ReadAllLines(path);
        return lines.Skip(Math.Max(0, lines.Length - LogTailLines)).ToList();
    }
}
