using HappyWhale.Experiments;
using HappyWhale.Pipeline;
using HappyWhale.Pipeline.Executors;
using HappyWhale.Tests.EndToEnd;

namespace HappyWhale.Tests.Slurm;

/// <summary>The plan the slurm executor submits, and the job that computes one planned key (no Slurm needed).</summary>
public class StagePlannerTests
{
    static StagePlanner Plan(TestRepository repo, PipelineOptions? options = null, IReadOnlySet<string>? computed = null)
    {
        var planner = new StagePlanner(options ?? new PipelineOptions(repo.Root), computed);
        var ablation = AblationLoader.Load(repo.Experiments, "ci_slurm");
        foreach (var variant in ablation.Variants)
            foreach (var (seed, experiment) in variant.Runs)
                planner.Add(ExperimentRef.ForAblationRun("ci_slurm", variant.Name, seed), experiment, StageNames.Evaluate);
        return planner;
    }

    [Fact]
    public void Shared_prefixes_are_planned_once_with_afterok_edges_to_the_stages_they_read()
    {
        using var repo = SlurmExecutorTests.SlurmRepository();
        var planner = Plan(repo);

        // 2 variants x 2 seeds = 20 stage visits; 11 distinct keys, none cached, nothing computed.
        Assert.Equal(["evaluate", "evaluate", "evaluate", "evaluate", "prepare", "prepare", "synth", "train", "train", "train", "train"],
            planner.Jobs.Select(j => j.Stage).Order());
        Assert.Equal(0, planner.Cached);
        Assert.False(Directory.Exists(repo.Cache));

        var synth = planner.Jobs.Single(j => j.Stage == "synth");
        Assert.Equal(4, synth.UsedBy.Count);
        var phase1 = planner.Jobs.Where(j => j.Label.StartsWith("train phase 1")).ToList();
        Assert.Equal(2, phase1.Count);
        Assert.All(phase1, p => Assert.Equal(2, p.UsedBy.Count));   // the base's training is the progressive variant's first phase
        var prepare32 = planner.Jobs.Single(j => j.Label == "prepare 32px");
        var prepare48 = planner.Jobs.Single(j => j.Label == "prepare 48px");
        Assert.Equal([synth.Index], prepare32.DependsOn);

        var phase2 = planner.Jobs.Single(j => j.Label.StartsWith("train phase 2") && j.UsedBy.Contains("ci_slurm/progressive/s1"));
        var firstOfS1 = phase1.Single(p => p.UsedBy.Contains("ci_slurm/progressive/s1"));
        Assert.Equal(new[] { prepare48.Index, firstOfS1.Index }.Order(), phase2.DependsOn);
        var evaluate = planner.Jobs.Single(j => j.Stage == "evaluate" && j.UsedBy.SequenceEqual(["ci_slurm/progressive/s1"]));
        Assert.Equal(new[] { prepare48.Index, phase2.Index }.Order(), evaluate.DependsOn);
        // Every edge points backwards: submitting in plan order never names a job not yet submitted.
        Assert.All(planner.Jobs, j => Assert.All(j.DependsOn, d => Assert.True(d < j.Index)));
    }

    [Fact]
    public void Cached_stages_get_no_job_and_an_edge_is_followed_through_a_cached_entry()
    {
        using var repo = SlurmExecutorTests.SlurmRepository();
        var experiment = ExperimentLoader.Load(repo.Experiments, "tiny_slurm", ["train.threads=0"]);   // leaves the test process's torch threads alone
        var prepared = new ExperimentPipeline(experiment, new PipelineOptions(repo.Root)).Run(StageNames.Prepare);

        var planner = Plan(repo);
        Assert.Equal(9, planner.Jobs.Count);
        Assert.Equal(2, planner.Cached);
        Assert.DoesNotContain(planner.Jobs, j => j.Label == "prepare 32px" || j.Stage == "synth");

        // The synthetic folder gone but the images prepared from it cached: the synth job is planned again,
        // and stages reading the cached images wait for it (evaluate reads the synthetic folder's labels).
        Directory.Delete(prepared.Last(StageNames.Synth)!.Folder, recursive: true);
        var again = Plan(repo);
        var synth = again.Jobs.Single(j => j.Stage == "synth");
        Assert.All(again.Jobs.Where(j => j != synth), j => Assert.Contains(synth.Index, Ancestors(again.Jobs, j)));
        Assert.Contains(synth.Index, again.Jobs.First(j => j.Stage == "evaluate" && j.UsedBy[0] == "ci_slurm/base/s1").DependsOn);
        Assert.DoesNotContain(again.Jobs, j => j.Label == "prepare 32px");
    }

    static HashSet<int> Ancestors(IReadOnlyList<PlannedStage> jobs, PlannedStage job)
    {
        var found = new HashSet<int>();
        var pending = new Stack<int>(job.DependsOn);
        while (pending.Count > 0)
            if (found.Add(pending.Peek())) foreach (var d in jobs[pending.Pop()].DependsOn) pending.Push(d);
            else pending.Pop();
        return found;
    }

    [Fact]
    public void Force_plans_cached_stages_again_but_not_those_this_submission_already_computed()
    {
        using var repo = SlurmExecutorTests.SlurmRepository();
        var experiment = ExperimentLoader.Load(repo.Experiments, "tiny_slurm", ["train.threads=0"]);   // leaves the test process's torch threads alone
        new ExperimentPipeline(experiment, new PipelineOptions(repo.Root)).Run(StageNames.Prepare);
        var force = new PipelineOptions(repo.Root, PipelineOptions.ParseForce("prepare"));

        var forced = Plan(repo, force);
        var prepares = forced.Jobs.Where(j => j.Stage == "prepare").ToList();
        Assert.Equal(2, prepares.Count);
        Assert.All(prepares, p => Assert.True(p.Force));
        var retry = Plan(repo, force, prepares.Select(p => p.Key).ToHashSet());
        // Computed by this submission's jobs: 32 px is cached and not forced again; 48 px (never computed here) still needs its job.
        var left = Assert.Single(retry.Jobs, j => j.Stage == "prepare");
        Assert.Equal("prepare 48px", left.Label);
        Assert.False(left.Force);
    }

    [Fact]
    public void Keys_that_depend_on_earlier_results_are_planned_in_a_later_round()
    {
        // train.final_fit takes its epochs from the fold run's history: its key exists only once that run is computed.
        using var repo = SlurmExecutorTests.SlurmRepository();
        string[] sets = ["train.final_fit=true"];
        var reference = ExperimentRef.ForExperiment("tiny_slurm", sets, []);
        StagePlanner PlanNow()
        {
            var planner = new StagePlanner(new PipelineOptions(repo.Root));
            planner.Add(reference, ExperimentLoader.Load(repo.Experiments, "tiny_slurm", sets), StageNames.Evaluate);
            return planner;
        }
        var first = PlanNow();
        Assert.Equal(["synth", "prepare", "train"], first.Jobs.Select(j => j.Stage));
        Assert.Equal("tiny_slurm after train phase 1 (32px)", Assert.Single(first.Waiting));

        // The three jobs, in order, as Slurm runs them (each its own process).
        var submission = SlurmSubmission.Create(Path.Combine(repo.Root, "artifacts"), "exp", "tiny_slurm");
        string stages = submission.WriteStages(1, new RoundPlan(repo.Root, first.Jobs));
        foreach (var job in first.Jobs)
        {
            var (code, output) = repo.RunCli("stage", "--stages", stages, "--index", job.Index.ToString());
            Assert.True(code == 0, output);
        }
        var second = PlanNow();
        Assert.Empty(second.Waiting);
        Assert.Equal(3, second.Cached);
        Assert.Equal(["train", "evaluate"], second.Jobs.Select(j => j.Stage));
        Assert.StartsWith("final fit phase 1", second.Jobs[0].Label);
    }

    [Fact]
    public void A_job_computes_its_key_only_and_refuses_to_run_before_its_inputs()
    {
        using var repo = SlurmExecutorTests.SlurmRepository();
        var planner = Plan(repo);
        var submission = SlurmSubmission.Create(Path.Combine(repo.Root, "artifacts"), "ablation", "ci_slurm");
        string stages = submission.WriteStages(1, new RoundPlan(repo.Root, planner.Jobs));
        var train = planner.Jobs.First(j => j.Stage == "train");

        var refused = Assert.Throws<UserException>(() => StageJob.Run(stages, train.Index, _ => { }));
        Assert.Contains("is not in the cache", refused.Message);
        Assert.False(Directory.Exists(Path.Combine(repo.Cache, "train")));

        var synth = planner.Jobs.Single(j => j.Stage == "synth");
        var lines = new List<string>();
        var run = StageJob.Run(stages, synth.Index, lines.Add);
        Assert.Equal(CacheOutcome.Computed, run.Outcome);
        Assert.Equal(synth.Key, run.Key);
        Assert.Equal(["synth"], Directory.GetDirectories(repo.Cache).Select(Path.GetFileName));
        Assert.Contains(lines, l => l.StartsWith("job done: synth/", StringComparison.Ordinal));

        var again = StageJob.Run(stages, synth.Index, _ => { });
        Assert.Equal(CacheOutcome.Hit, again.Outcome);
        Assert.Throws<UserException>(() => StageJob.Run(stages, planner.Jobs.Count, _ => { }));
    }
}
