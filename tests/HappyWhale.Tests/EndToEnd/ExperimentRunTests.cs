using HappyWhale.Evaluation;
using HappyWhale.Experiments;
using HappyWhale.Pipeline;
using HappyWhale.Reporting;
using HappyWhale.Tracking;

namespace HappyWhale.Tests.EndToEnd;

/// <summary>The whole path on a tiny synthetic set: synth, prepare, train, evaluate, through the cache.</summary>
public class ExperimentRunTests
{
    [Fact]
    public void Tiny_run_end_to_end_then_all_hits_then_rotation_retrains_only()
    {
        using var repo = new TestRepository();
        repo.Write("tiny.yaml", TinyExperiment.Yaml);
        var options = new PipelineOptions(repo.Root);

        var first = new ExperimentPipeline(ExperimentLoader.Load(repo.Experiments, "tiny"), options).Run(StageNames.Evaluate);
        Assert.Equal(["synth", "prepare", "train", "evaluate"], first.Stages.Select(s => s.Stage));
        Assert.All(first.Stages, s => Assert.Equal(CacheOutcome.Computed, s.Outcome));
        foreach (var metric in new[] { "val_map5", "test_map5", "sample_submission_map5" })
            Assert.InRange(first.Metrics[metric], 0.0, 1.0);
        string submission = Path.Combine(first.Last("evaluate")!.Folder, EvaluateStage.SubmissionFile);
        var rows = SubmissionReader.ReadSubmission(submission);
        Assert.Equal(12, rows.Count);
        Assert.All(rows, r => Assert.Equal(5, r.Predictions.Distinct().Count()));

        // Again, tracked live as `happywhale run` does: every stage a cache hit, and the MLflow run still has the epochs and
        // scores, tagged as hits. Every metric name the pipeline produces must fit MLflow's file store.
        var experiment = ExperimentLoader.Load(repo.Experiments, "tiny");
        using var session = TrackingSession.Open(null, repo.Root);
        var tracking = ExperimentTracking.Start(session, experiment, repo.Root);
        var again = new ExperimentPipeline(experiment, options, tracking).Run(StageNames.Evaluate);
        tracking.Finish(again with { RunFolder = RunFolder.Write(options.RunsRoot, experiment, again) });
        Assert.All(again.Stages, s => Assert.Equal(CacheOutcome.Hit, s.Outcome));
        Assert.Equal(first.Metrics["test_map5"], again.Metrics["test_map5"]);
        var reader = new MlflowFileStoreReader(Path.Combine(repo.Root, "artifacts", "mlruns"));
        var run = reader.FindRun(tracking.RunId)!;
        Assert.Equal(RunStatus.Finished, run.Status);
        Assert.Equal(first.Metrics["test_map5"], reader.ReadLatestMetrics(run)["test_map5"]);
        Assert.Equal(first.History.Select(e => e.Loss), reader.ReadMetricHistory(run.RunId, "train_loss").Select(p => p.Value));
        Assert.Equal(experiment.Flatten().Count, reader.ReadParams(run).Count);
        var tags = reader.ReadTags(run);
        Assert.Equal("hit", tags[ExperimentTracking.CacheTagPrefix + "train"]);
        Assert.Equal(again.Last("train")!.Key, tags[ExperimentTracking.KeyTagPrefix + "train"]);
        var artifacts = Directory.GetFiles(new MlflowFileStoreReader(session.Journal.RootDirectory).FindRun(run.RunId)!.Directory + "/artifacts").Select(Path.GetFileName);
        Assert.Equal(["curves.png", "metrics.json", "resolved.yaml", "stages.json", "submission.csv", "threshold.png"], artifacts.Order());

        var rotated = new ExperimentPipeline(ExperimentLoader.Load(repo.Experiments, "tiny", ["train.augment.rotate_deg=10"]), options)
            .Run(StageNames.Evaluate);
        var outcome = rotated.Stages.ToDictionary(s => s.Stage, s => s.Outcome);
        Assert.Equal(CacheOutcome.Hit, outcome["synth"]);
        Assert.Equal(CacheOutcome.Hit, outcome["prepare"]);
        Assert.Equal(CacheOutcome.Computed, outcome["train"]);
        Assert.Equal(CacheOutcome.Computed, outcome["evaluate"]);
    }

    [Fact]
    public void Progressive_experiments_that_share_their_first_phase_share_its_checkpoint()
    {
        using var repo = new TestRepository();
        repo.Write("tiny.yaml", TinyExperiment.Yaml);
        repo.Write("p96.yaml", "extends: tiny.yaml\ntrain:\n  phases: [{image_size: 64, epochs: 1}, {image_size: 96, epochs: 1}]\n");
        repo.Write("p128.yaml", "extends: tiny.yaml\ntrain:\n  phases: [{image_size: 64, epochs: 1}, {image_size: 128, epochs: 1}]\n");
        var options = new PipelineOptions(repo.Root);

        var first = new ExperimentPipeline(ExperimentLoader.Load(repo.Experiments, "p96"), options).Run(StageNames.Train);
        var second = new ExperimentPipeline(ExperimentLoader.Load(repo.Experiments, "p128"), options).Run(StageNames.Train);

        var trainFirst = first.Stages.Where(s => s.Stage == "train").ToList();
        var trainSecond = second.Stages.Where(s => s.Stage == "train").ToList();
        Assert.Equal(2, trainSecond.Count);
        Assert.Equal(CacheOutcome.Hit, trainSecond[0].Outcome);
        Assert.Equal(trainFirst[0].Key, trainSecond[0].Key);
        Assert.Equal(CacheOutcome.Computed, trainSecond[1].Outcome);
        Assert.NotEqual(trainFirst[1].Key, trainSecond[1].Key);
    }

    [Fact]
    public void Grayscale_changes_the_prepare_key_and_rotation_does_not()
    {
        using var repo = new TestRepository();
        repo.Write("tiny.yaml", TinyExperiment.Yaml);
        string Key(params string[] sets)
        {
            var e = ExperimentLoader.Load(repo.Experiments, "tiny", sets);
            return PrepareStage.Request(e, e.Spec.Prepare.ImageSize, "source").Key;
        }
        Assert.Equal(Key(), Key("train.augment.rotate_deg=10"));
        Assert.NotEqual(Key(), Key("prepare.grayscale=true"));
        Assert.NotEqual(Key(), Key("prepare.image_size=48"));
    }
}
