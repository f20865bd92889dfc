using HappyWhale.Evaluation;
using HappyWhale.Imaging;
using HappyWhale.Pipeline;

namespace HappyWhale.Tests.EndToEnd;

/// <summary>The competition's final steps on the trained tiny experiment: each reuses the base's training through the cache.</summary>
[Collection(TrainedTinyCollection.Name)]
public class FinalStepsTests(TrainedTiny tiny)
{
    static IReadOnlyList<StageRun> Of(PipelineResult result, string stage) => result.Stages.Where(s => s.Stage == stage).ToList();

    [Fact]
    public void Final_fit_reuses_the_fold_run_trains_on_every_image_and_makes_the_submission()
    {
        var result = tiny.Run("train.final_fit=true");

        var trains = Of(result, StageNames.Train);
        Assert.Equal(2, trains.Count);
        Assert.Equal(tiny.BaseStage(StageNames.Train).Key, trains[0].Key);    // the fold's run is the base's
        Assert.Equal(CacheOutcome.Hit, trains[0].Outcome);
        Assert.Equal(CacheOutcome.Computed, trains[1].Outcome);
        Assert.StartsWith("final fit", trains[1].Label);

        // Every labelled image and individual trains; the fold's run held out its validation fold and some individuals.
        using var images = PreparedSet.Open(tiny.BaseStage(StageNames.Prepare).Folder);
        var all = images.Rows.Where(r => r.Subset == "train").ToList();
        Assert.Equal(all.Count, trains[1].Manifest.Summary["train_images"]!.GetValue<int>());
        Assert.Equal(all.Select(r => r.IndividualId).Distinct().Count(), TrainStage.ReadClasses(trains[1].Folder).Count);
        Assert.True(trains[0].Manifest.Summary["train_images"]!.GetValue<int>() < all.Count);
        // The fold's per-epoch curve chose the epochs (later epochs win ties).
        int chosen = FinalFit.ChosenEpochs(TrainStage.ReadHistory(trains[0].Folder), 6);
        Assert.Equal(chosen, TrainStage.ReadHistory(trains[1].Folder).Count);
        Assert.True(trains[1].Manifest.Request["parameters"]!["final_fit"]!.GetValue<bool>());

        // Validation (and its threshold) stays with the fold's model; the submission comes from the final fit.
        Assert.NotEqual(tiny.BaseStage(StageNames.Evaluate).Key, result.Last(StageNames.Evaluate)!.Key);
        Assert.Equal(tiny.Base.Metrics["val_map5"], result.Metrics["val_map5"]);
        Assert.Equal(trains[1].Key, result.Last(StageNames.Evaluate)!.Manifest.Request["inputs"]!["final_fit"]!.GetValue<string>());
        Assert.InRange(result.Metrics["test_map5"], 0, 1);
    }

    [Fact]
    public void Pseudo_label_rounds_add_the_most_similar_test_photos_and_chain_their_keys()
    {
        // Every photo reaches the bar: the share cap decides (24 test photos x 0.5 = 12).
        string[] oneRound = ["pseudo_label.rounds=1", "pseudo_label.min_similarity=-1", "pseudo_label.max_share=0.5"];
        var first = tiny.Run(oneRound);

        var round = Of(first, StageNames.PseudoLabel).Single();
        Assert.Equal(12, round.Manifest.Summary["added"]!.GetValue<int>());
        var labels = PseudoLabels.Read(Path.Combine(round.Folder, PseudoLabelStage.LabelsFile));
        Assert.Equal(12, labels.Count);
        Assert.Equal(labels.OrderByDescending(l => l.Similarity).Select(l => l.Image), labels.Select(l => l.Image));
        // Round 1 labels with the base's model, scored as evaluate scores it.
        Assert.Equal(tiny.Base.Metrics["val_map5"], first.Metrics["pseudo_round0_val_map5"]);
        Assert.Equal(12, first.Metrics["pseudo_round1_added"]);
        Assert.InRange(first.Metrics["pseudo_round1_accuracy"], 0, 1);
        Assert.Equal(first.Metrics["val_map5"], first.Metrics["pseudo_round1_val_map5"]);

        var trains = Of(first, StageNames.Train);
        Assert.Equal(2, trains.Count);
        Assert.Equal(CacheOutcome.Hit, trains[0].Outcome);
        Assert.Equal(round.Key, trains[1].Manifest.Request["inputs"]![PseudoLabelStage.InputName]!.GetValue<string>());
        Assert.Equal(trains[0].Manifest.Summary["train_images"]!.GetValue<int>() + 12, trains[1].Manifest.Summary["train_images"]!.GetValue<int>());
        Assert.Equal(trains[0].Manifest.Summary["classes"]!.GetValue<int>(), trains[1].Manifest.Summary["classes"]!.GetValue<int>());

        // A second round starts from the first one's entries, labels with the round-1 model and chains on round 1.
        var second = tiny.Run([.. oneRound.Where(s => !s.StartsWith("pseudo_label.rounds")), "pseudo_label.rounds=2"]);
        var rounds = Of(second, StageNames.PseudoLabel);
        Assert.Equal(2, rounds.Count);
        Assert.Equal(round.Key, rounds[0].Key);
        Assert.Equal(CacheOutcome.Hit, rounds[0].Outcome);
        Assert.Equal(round.Key, rounds[1].Manifest.Request["inputs"]!["previous_round"]!.GetValue<string>());
        Assert.Equal(trains[1].Key, rounds[1].Manifest.Request["inputs"]!["model"]!.GetValue<string>());
        Assert.Equal(first.Metrics["val_map5"], second.Metrics["pseudo_round1_val_map5"]);
        Assert.Equal(3, Of(second, StageNames.Train).Count);
    }

    [Fact]
    public void Logit_blending_reuses_the_training_and_changes_the_scores()
    {
        var blended = tiny.Run("evaluate.blend_logits=0.5");

        Assert.Equal(tiny.BaseStage(StageNames.Train).Key, blended.Last(StageNames.Train)!.Key);
        Assert.Equal(CacheOutcome.Hit, blended.Last(StageNames.Train)!.Outcome);
        var evaluate = blended.Last(StageNames.Evaluate)!;
        Assert.Equal(CacheOutcome.Computed, evaluate.Outcome);
        Assert.Equal(0.5, evaluate.Manifest.Request["parameters"]!["evaluate"]!["blend_logits"]!.GetValue<double>());
        Assert.InRange(blended.Metrics["val_map5"], 0, 1);
        // Fully blended towards the head, the ranking is the head's: the measure must move.
        var headOnly = tiny.Run("evaluate.blend_logits=1");
        Assert.NotEqual(tiny.Base.Metrics["val_map5"], headOnly.Metrics["val_map5"]);
    }

    [Fact]
    public void Logit_blending_with_an_ensemble_stops_before_any_stage()
    {
        tiny.Repo.Write("tiny_pair.yaml", $"extends: {TrainedTiny.Name}.yaml\nevaluate:\n  models: [self, {TrainedTiny.Name}]\n  blend_logits: 0.5\n");
        var before = tiny.Repo.CacheListing();
        var experiment = HappyWhale.Experiments.ExperimentLoader.Load(tiny.Repo.Experiments, "tiny_pair");

        var error = Assert.Throws<UserException>(() => new ExperimentPipeline(experiment, tiny.Options).Run(StageNames.Evaluate));

        Assert.Contains("evaluate.blend_logits needs a single model", error.Message);
        Assert.Equal(before, tiny.Repo.CacheListing());
    }
}
