using HappyWhale.Data;
using HappyWhale.Experiments;
using HappyWhale.Imaging;
using HappyWhale.Pipeline;
using HappyWhale.Tests.EndToEnd;
using HappyWhale.Training;

namespace HappyWhale.Tests.Pipeline;

/// <summary>The final steps' keys: off, they leave every existing request as it was; on, they change only what they should.</summary>
public class FinalStepKeysTests
{
    static (StageRequest Prepare, StageRequest Train, StageRequest Evaluate) Requests(TestRepository repo, params string[] sets)
    {
        var e = ExperimentLoader.Load(repo.Experiments, "tiny", sets);
        var prepare = PrepareStage.Request(e, e.Spec.Prepare.ImageSize, "source");
        var train = TrainStage.Request(e, 0, e.Spec.Prepare.ImageSize, prepare.Key, null);
        var evaluate = EvaluateStage.Request(e, [new EvaluationModel(EvaluateStage.Self, e.Spec.Model, train.Key, "")], prepare.Key);
        return (prepare, train, evaluate);
    }

    [Fact]
    public void Off_the_new_keys_are_absent_from_every_request()
    {
        using var repo = new TestRepository();
        repo.Write("tiny.yaml", TinyExperiment.Yaml);
        var (prepare, train, evaluate) = Requests(repo);
        string all = prepare.KeyDocument().ToJsonString() + train.KeyDocument().ToJsonString() + evaluate.KeyDocument().ToJsonString();
        Assert.DoesNotContain("final_fit", all);
        Assert.DoesNotContain("blend_logits", all);
        Assert.DoesNotContain("pseudo_label", all);
    }

    [Fact]
    public void Final_fit_and_pseudo_labels_leave_the_folds_keys_alone_and_blending_changes_only_evaluate()
    {
        using var repo = new TestRepository();
        repo.Write("tiny.yaml", TinyExperiment.Yaml);
        var off = Requests(repo);
        var on = Requests(repo, "train.final_fit=true", "pseudo_label.rounds=2", "pseudo_label.min_similarity=0.5");
        Assert.Equal(off.Prepare.Key, on.Prepare.Key);
        Assert.Equal(off.Train.Key, on.Train.Key);
        Assert.Equal(off.Evaluate.Key, on.Evaluate.Key);

        var blended = Requests(repo, "evaluate.blend_logits=0.3");
        Assert.Equal(off.Train.Key, blended.Train.Key);
        Assert.NotEqual(off.Evaluate.Key, blended.Evaluate.Key);
    }

    [Fact]
    public void The_final_fits_entries_and_the_rounds_are_keyed_on_what_they_came_from()
    {
        using var repo = new TestRepository();
        repo.Write("tiny.yaml", TinyExperiment.Yaml);
        var e = ExperimentLoader.Load(repo.Experiments, "tiny", ["train.final_fit=true"]);
        var fold = TrainStage.Request(e, 0, 32, "prep", null);
        var final = FinalFit.Request(e, 0, 32, 3, "prep", null, fold.Key, null, null);
        Assert.NotEqual(fold.Key, final.Key);
        Assert.Equal(fold.Key, final.Inputs["fold_run"]);
        Assert.NotEqual(final.Key, FinalFit.Request(e, 0, 32, 2, "prep", null, fold.Key, null, null).Key);
        Assert.NotEqual(final.Key, FinalFit.Request(e, 0, 32, 3, "prep", null, "other fold run", null, null).Key);

        var round1 = PseudoLabelStage.Request(e, 1, fold.Key, "prep", null);
        var round2 = PseudoLabelStage.Request(e, 2, "round 1 model", "prep", round1.Key);
        Assert.Equal(round1.Key, round2.Inputs["previous_round"]);
        // The number of rounds is not part of a round's key: rounds: 3 reuses the rounds of rounds: 2.
        var three = ExperimentLoader.Load(repo.Experiments, "tiny", ["train.final_fit=true", "pseudo_label.rounds=3"]);
        Assert.Equal(round1.Key, PseudoLabelStage.Request(three, 1, fold.Key, "prep", null).Key);
    }

    static EpochStats Epoch(int i, double? map) => new(0, i, 5, 1, 0, 0, 1, 1, map);

    [Fact]
    public void The_final_fit_runs_the_fold_runs_best_epoch_count_later_epochs_winning_ties()
    {
        Assert.Equal(4, FinalFit.ChosenEpochs([Epoch(0, 0.1), Epoch(1, 0.3), Epoch(2, 0.2), Epoch(3, 0.3), Epoch(4, 0.25)], 5));
        Assert.Equal(5, FinalFit.ChosenEpochs([Epoch(0, null), Epoch(1, null)], 5));
        Assert.Equal(7, FinalFit.ChosenEpochs([], 7));
    }

    [Fact]
    public void Build_all_trains_on_every_labelled_image_and_extra_rows_keep_the_classes()
    {
        var rows = Enumerable.Range(0, 12).Select(i => new PreparedRow(i, 0, i, $"t{i}", i < 6 ? "whale" : "dolphin", $"id{i % 4}", "train"))
            .Append(new PreparedRow(12, 0, 12, "q0", "", "", "test")).ToList();
        var data = new DataSpec { MinImagesPerId = 1, Folds = 3, Fold = 0, HoldoutIndividuals = 0.25, Seed = 1, CleanSpecies = false };

        var fold = RowSplit.Build(rows, data);
        var all = RowSplit.BuildAll(rows, data);
        Assert.NotEmpty(fold.ValidationRows);
        Assert.Empty(all.ValidationRows);
        Assert.Equal(12, all.TrainRows.Count);
        Assert.Equal(4, all.Classes.Count);

        var more = fold.WithExtraRows([(12, fold.Classes[0])]);
        Assert.Equal(fold.TrainRows.Count + 1, more.TrainRows.Count);
        Assert.Equal(12, more.TrainRows[^1]);
        Assert.Equal(0, more.TrainLabels[^1]);
        Assert.Equal(more.TrainRows.Count, more.TrainSpecies.Count);
        Assert.Equal(fold.Classes, more.Classes);
        Assert.Equal(fold.ValidationRows, more.ValidationRows);
        Assert.Throws<ArgumentException>(() => fold.WithExtraRows([(12, "nobody")]));
    }
}
