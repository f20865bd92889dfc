using System.Text.Json;
using System.Text.RegularExpressions;
using HappyWhale.Pipeline.Executors;
using HappyWhale.Tests.EndToEnd;
using HappyWhale.Tests.Training;
using HappyWhale.Tracking;

namespace HappyWhale.Tests.Slurm;

/// <summary>
/// The slurm executor against a real Slurm (the single-node one of ../shared/slurm/slurm-local.sh):
/// jobs per stage with afterok dependencies, sacct's record of them, scancel and --retry, --detach,
/// status and cancel. Each test runs the real program in its own repository and cache.
/// </summary>
[Collection("slurm")]
public class SlurmExecutorTests
{
    // Every command below carries this limit; a run past it is killed and the test fails.
    static readonly TimeSpan Limit = TimeSpan.FromMinutes(12);

    [SlurmFact]
    public void Ablation_computes_each_uncached_stage_as_one_job_and_reports_as_the_local_executor()
    {
        using var local = SlurmRepository();
        using var cluster = SlurmRepository();
        var started = DateTime.Now;
        try
        {
            var reference = Cli(local, "ablation", "--ablation", "ci_slurm");
            Assert.True(reference.ExitCode == 0, reference.Output);
            // The synthetic set and the 32 px images are cached before the submission: they must get no job.
            var prepared = Cli(cluster, "prepare", "--exp", "tiny_slurm");
            Assert.True(prepared.ExitCode == 0, prepared.Output);
            var cachedBefore = Entries(cluster);
            Assert.Equal(["prepare", "synth"], cachedBefore.Select(e => e.Split('/')[0]).Order());

            var run = Cli(cluster, "ablation", "--ablation", "ci_slurm", "--executor=slurm");
            Assert.True(run.ExitCode == 0, run.Output);
            Assert.Contains("9 stage(s) computed", run.Output);

            // The same 11 stage keys as the local run (2 variants x 2 seeds share synth, prepare and the first phase).
            var all = Entries(local);
            Assert.Equal(11, all.Count);
            Assert.Equal(all, Entries(cluster));
            var computed = all.Except(cachedBefore).Order().ToList();

            // One job per computed stage, none for the cached ones, and sacct shows each COMPLETED.
            var jobs = Submission(cluster, "ablation-ci_slurm").Jobs();
            Assert.All(jobs, j => Assert.Equal(1, j.Round));
            Assert.Equal(computed, jobs.Select(j => $"{j.Stage}/{j.Key}").Order());
            var sacct = SlurmKit.Jobs(jobs.Select(j => j.Id).ToList(), cluster.Root, started);
            Assert.Equal(jobs.Select(j => j.Id).Order(), sacct.Keys.Order());
            Assert.All(sacct.Values, j => Assert.Equal("COMPLETED", j.State));
            // slurm.array_parallelism: 2 put the two first-phase trainings (same inputs) in one array.
            Assert.Contains(jobs, j => j.Stage == "train" && j.Id.Contains('_'));

            // Every computed result is bit for bit the local executor's.
            foreach (var evaluate in all.Where(e => e.StartsWith("evaluate/", StringComparison.Ordinal)))
                foreach (var file in new[] { "metrics.json", "submission.csv" })
                    Assert.Equal(File.ReadAllBytes(Path.Combine(local.Cache, evaluate, file)), File.ReadAllBytes(Path.Combine(cluster.Cache, evaluate, file)));

            // MLflow: the parent run and one child per variant x seed, with the local run's metrics and
            // device tag (the jobs record theirs), and the same stage keys.
            var localRuns = MlflowRuns(local);
            var clusterRuns = MlflowRuns(cluster);
            Assert.Equal(localRuns.Keys.Order(), clusterRuns.Keys.Order());
            Assert.Equal(5, clusterRuns.Count);
            foreach (var (name, (metrics, tags)) in localRuns)
            {
                Assert.Equal(metrics.GetValueOrDefault("test_map5"), clusterRuns[name].Metrics.GetValueOrDefault("test_map5"));
                foreach (var tag in tags.Keys.Where(t => t.StartsWith(ExperimentTracking.KeyTagPrefix, StringComparison.Ordinal) || t == ExperimentTracking.DeviceTag))
                    Assert.Equal(tags[tag], clusterRuns[name].Tags.GetValueOrDefault(tag));
            }
            Assert.Contains(localRuns.Values, r => r.Tags.ContainsKey(ExperimentTracking.DeviceTag));

            // report.md: the slurm run's is the file the local executor writes from the same cache, byte for byte...
            string slurmReport = Report(cluster);
            var again = Cli(cluster, "ablation", "--ablation", "ci_slurm", "--executor=local");
            Assert.True(again.ExitCode == 0, again.Output);
            Assert.Contains("0 stage(s) computed", again.Output);
            Assert.Equal(slurmReport, Report(cluster));
            // ...and the independent local run's, except the measured train wall-clock seconds.
            Assert.Equal(WithoutTrainTimes(Report(local)), WithoutTrainTimes(slurmReport));
        }
        finally { CancelLeftovers(cluster, "--ablation", "ci_slurm"); }
    }

    [SlurmFact]
    public void Training_job_killed_with_scancel_is_resubmitted_by_retry_resumes_and_ends_with_the_undisturbed_metrics()
    {
        string[] longer = ["--set", "train.phases.0.epochs=8"];
        using var undisturbed = SlurmRepository();
        using var cluster = SlurmRepository();
        var started = DateTime.Now;
        try
        {
            var reference = Cli(undisturbed, ["run", "--exp", "tiny_slurm", .. longer]);
            Assert.True(reference.ExitCode == 0, reference.Output);

            using var submitter = new BackgroundCli(cluster, ["run", "--exp", "tiny_slurm", .. longer, "--executor=slurm", "--retry", "1"]);
            var deadline = DateTime.UtcNow + Limit;
            while (ResumeAfterKillTests.EpochsCheckpointed(cluster) < 1 && !submitter.HasExited && DateTime.UtcNow < deadline) Thread.Sleep(100);
            Assert.False(submitter.HasExited, "the submitting command ended before training checkpointed an epoch:\n" + submitter.Output);
            var killed = Submission(cluster, "exp-tiny_slurm").Jobs().Single(j => j.Stage == "train");
            SlurmKit.Scancel(killed.Id);

            var (code, output) = submitter.Wait(Limit);
            Assert.True(code == 0, output);
            Assert.Contains($"job {killed.Id} train phase 1 (32px) (tiny_slurm): CANCELLED", output);
            Assert.Contains("retry 1/1: resubmitting 2 stage(s)", output);

            var jobs = Submission(cluster, "exp-tiny_slurm").Jobs();
            var resumed = jobs.Single(j => j.Stage == "train" && j.Round == 2);
            Assert.Equal(killed.Key, resumed.Key);
            Assert.Matches(new Regex(@"resuming after epoch [1-7]/8"), File.ReadAllText(resumed.Log));
            var sacct = SlurmKit.Jobs(jobs.Select(j => j.Id).ToList(), cluster.Root, started);
            Assert.Equal("CANCELLED", sacct[killed.Id].State);
            Assert.Equal("COMPLETED", sacct[resumed.Id].State);

            string evaluate = Entries(undisturbed).Single(e => e.StartsWith("evaluate/", StringComparison.Ordinal));
            Assert.Equal(File.ReadAllText(Path.Combine(undisturbed.Cache, evaluate, "metrics.json")), File.ReadAllText(Path.Combine(cluster.Cache, evaluate, "metrics.json")));
            Assert.Equal(File.ReadAllBytes(Path.Combine(undisturbed.Cache, evaluate, "submission.csv")), File.ReadAllBytes(Path.Combine(cluster.Cache, evaluate, "submission.csv")));
        }
        finally { CancelLeftovers(cluster, "--exp", "tiny_slurm"); }
    }

    [SlurmFact]
    public void Detached_submission_writes_its_results_from_a_report_job_and_cancel_stops_the_jobs()
    {
        using var cluster = SlurmRepository();
        var started = DateTime.Now;
        try
        {
            var trained = Cli(cluster, "train", "--exp", "tiny_slurm");
            Assert.True(trained.ExitCode == 0, trained.Output);

            var detached = Cli(cluster, "run", "--exp", "tiny_slurm", "--executor=slurm", "--detach");
            Assert.True(detached.ExitCode == 0, detached.Output);
            Assert.Contains("submitted 1 stage job(s) and a report job", detached.Output);
            Assert.Empty(RunFolders(cluster));

            var deadline = DateTime.UtcNow + Limit;
            string status;
            do
            {
                Thread.Sleep(1000);
                var s = Cli(cluster, "status", "--exp", "tiny_slurm");
                Assert.True(s.ExitCode == 0, s.Output);
                status = s.Output;
            } while (status.Contains("queued or running") && DateTime.UtcNow < deadline);
            Assert.Contains("1 of 1 stage(s) computed", status);
            Assert.Contains("0 queued, 0 running, 2 done, 0 failed of 2", status);
            // The report job ran the command locally: a run folder with the metrics, and an MLflow run.
            Assert.True(File.Exists(Path.Combine(Assert.Single(RunFolders(cluster)), "metrics.json")));
            Assert.Contains("tiny_slurm", MlflowRuns(cluster).Keys);

            // A second detached submission (another seed: train, evaluate, report), cancelled at once.
            var second = Cli(cluster, "run", "--exp", "tiny_slurm", "--set", "train.seed=9", "--executor=slurm", "--detach");
            Assert.True(second.ExitCode == 0, second.Output);
            var cancel = Cli(cluster, "cancel", "--exp", "tiny_slurm");
            Assert.True(cancel.ExitCode == 0, cancel.Output);
            Assert.Contains("cancelled 3 job(s)", cancel.Output);
            var jobs = Submission(cluster, "exp-tiny_slurm").Jobs();
            var sacct = SlurmKit.Jobs(jobs.Select(j => j.Id).ToList(), cluster.Root, started);
            Assert.All(jobs, j => Assert.Equal("CANCELLED", sacct[j.Id].State));
            var after = Cli(cluster, "status", "--exp", "tiny_slurm");
            Assert.Contains("(cancelled)", after.Output);
            Assert.Contains("0 of 2 stage(s) computed", after.Output);
        }
        finally { CancelLeftovers(cluster, "--exp", "tiny_slurm"); }
    }

    [SlurmFact]
    public void A_job_sbatch_refuses_cancels_the_jobs_already_submitted_and_leaves_no_submission()
    {
        using var cluster = SlurmRepository();
        var started = DateTime.Now;
        // This node has no GPUs: synth and prepare (no gres) are accepted, the train job's gpu:1 is refused.
        var run = Cli(cluster, "run", "--exp", "tiny_slurm", "--set", "slurm.gres=gpu:1", "--executor=slurm");
        Assert.Equal(2, run.ExitCode);
        string output = Regex.Replace(run.Output, @"\s+", " ");
        Assert.Contains("sbatch refused the job for train phase 1 (32px) of tiny_slurm", output);
        Assert.Contains("nothing was left queued", output);
        Assert.False(Directory.Exists(Path.Combine(cluster.Root, "artifacts", "slurm", "exp-tiny_slurm")), run.Output);
        var sacct = SlurmKit.Jobs([], cluster.Root, started, atLeast: 2);
        Assert.Equal(2, sacct.Count);
        Assert.All(sacct.Values, j => Assert.Equal("CANCELLED", j.State));
        Assert.False(Directory.Exists(Path.Combine(cluster.Cache, "train")));
    }

    /// <summary>A repository with the Slurm CI experiment and ablation of this checkout.</summary>
    internal static TestRepository SlurmRepository()
    {
        var repo = new TestRepository();
        string source = Path.Combine(TestRepository.SourceRoot(), "experiments");
        File.Copy(Path.Combine(source, "tiny_slurm.yaml"), Path.Combine(repo.Experiments, "tiny_slurm.yaml"));
        Directory.CreateDirectory(Path.Combine(repo.Experiments, "ablations"));
        File.Copy(Path.Combine(source, "ablations", "ci_slurm.yaml"), Path.Combine(repo.Experiments, "ablations", "ci_slurm.yaml"));
        return repo;
    }

    static (int ExitCode, string Output) Cli(TestRepository repo, params string[] args)
    {
        using var cli = new BackgroundCli(repo, args);
        return cli.Wait(Limit);
    }

    /// <summary>Complete cache entries as stage/key.</summary>
    static List<string> Entries(TestRepository repo) =>
        Directory.GetDirectories(repo.Cache).SelectMany(Directory.GetDirectories)
            .Where(d => File.Exists(Path.Combine(d, "manifest.json")))
            .Select(d => Path.GetRelativePath(repo.Cache, d).Replace('\\', '/')).Order(StringComparer.Ordinal).ToList();

    static SlurmSubmission Submission(TestRepository repo, string label)
    {
        string parent = Path.Combine(repo.Root, "artifacts", "slurm", label);
        return SlurmSubmission.Latest(Path.Combine(repo.Root, "artifacts"), label.Split('-', 2)[0], label.Split('-', 2)[1])
            ?? throw new InvalidOperationException($"no submission under {parent}");
    }

    static string Report(TestRepository repo) => File.ReadAllText(Path.Combine(repo.Root, "artifacts", "reports", "ci_slurm", "report.md"));

    /// <summary>The report with its last column (train wall-clock seconds, a measurement) blanked.</summary>
    static string WithoutTrainTimes(string report) => Regex.Replace(report, @"\| \d+ s \|$", "| (time) |", RegexOptions.Multiline);

    static IReadOnlyList<string> RunFolders(TestRepository repo)
    {
        string runs = Path.Combine(repo.Root, "artifacts", "runs", "tiny_slurm");
        return Directory.Exists(runs) ? Directory.GetDirectories(runs) : [];
    }

    /// <summary>Run name -> latest metrics and tags, every run of the local MLflow file store.</summary>
    static Dictionary<string, (IReadOnlyDictionary<string, double> Metrics, IReadOnlyDictionary<string, string> Tags)> MlflowRuns(TestRepository repo)
    {
        var reader = new MlflowFileStoreReader(Path.Combine(repo.Root, "artifacts", "mlruns"));
        return reader.ListRuns("happywhale").ToDictionary(r => r.RunName, r => (reader.ReadLatestMetrics(r), reader.ReadTags(r.RunId)));
    }

    /// <summary>A failed assertion must not leave jobs running into the next test.</summary>
    static void CancelLeftovers(TestRepository repo, params string[] target)
    {
        if (!Directory.Exists(Path.Combine(repo.Root, "artifacts", "slurm"))) return;
        try { Cli(repo, ["cancel", .. target]); } catch (TimeoutException) { }
    }
}
