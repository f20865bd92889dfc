using System.Text.Json.Nodes;
using HappyWhale.Data;
using HappyWhale.Experiments;
using HappyWhale.Imaging;
using HappyWhale.Training;

namespace HappyWhale.Pipeline;

/// <summary>What an experiment trained: the model validated on its fold (after the last pseudo-label round) and, with train.final_fit, the final fit.</summary>
public sealed record TrainedModel(StageRun Model, StageRun? Final)
{
    public EvaluationModel For(string experiment, ModelSpec spec) =>
        new(experiment, spec, Model.Key, Model.Folder) { Final = Final is null ? null : new TrainEntry(Final.Key, Final.Folder) };
}

/// <summary>What evaluate used: its models, the prepared set the models saw, and its entry (the tuned threshold); predict reuses them.</summary>
public sealed record EvaluatedModels(IReadOnlyList<EvaluationModel> Models, StageRun Prepared, StageRun Evaluate);

/// <summary>
/// The competition's final steps, after the fold's phases: pseudo-label rounds (pseudo_label.rounds; each round a
/// pseudo_label entry, then the phases again on the fold plus the labelled test photos) and the final fit
/// (train.final_fit). Both are off by default and then add no stage and change no key.
/// </summary>
public sealed partial class ExperimentPipeline
{
    readonly List<JsonObject> _rounds = [];

    /// <summary>This experiment's trained model once <see cref="Run"/> has passed train.</summary>
    public TrainedModel? Trained { get; private set; }

    /// <summary>The models and threshold evaluate used, once <see cref="Run"/> has passed evaluate.</summary>
    public EvaluatedModels? Evaluated { get; private set; }

    /// <summary>The experiment's images (synthetic: the synth stage's folder, through the cache), for predict's gallery.</summary>
    public IImageSource OpenSource() => ResolveSource();

    void CheckFinalSteps()
    {
        var models = EvaluateStage.ModelNames(Spec);
        if (Spec.Evaluate.BlendLogits > 0 && models.Count > 1)
            throw new UserException($"evaluate.blend_logits needs a single model but evaluate.models lists {models.Count} ({string.Join(", ", models)}): " +
                                    "a head's class probabilities belong to its own model's embeddings, not to an ensemble's average. " +
                                    "Set evaluate.blend_logits: 0 or list one model.");
    }

    TrainedModel FinalSteps(IImageSource source, IReadOnlyList<int> sizes, Dictionary<int, StageRun> prepared, StageRun foldModel, List<EpochStats> history)
    {
        var model = foldModel;
        StageRun? labels = null;
        for (int round = 1; round <= Spec.PseudoLabel.Rounds; round++)
        {
            var roundLabels = labels = PseudoLabel(round, model, prepared[sizes[^1]], labels, source);
            StageRun? previous = null;
            for (int phase = 0; phase < sizes.Count; phase++)
            {
                var weights = ImageNetWeightsFor(previous);
                var request = TrainStage.Request(experiment, phase, sizes[phase], prepared[sizes[phase]].Key, previous?.Key, options.RepoRoot, weights?.Key);
                request = request with { Inputs = new Dictionary<string, string>(request.Inputs) { [PseudoLabelStage.InputName] = roundLabels.Key } };
                previous = Train(request, $"train round {round} phase {phase + 1} ({sizes[phase]}px)", Spec, phase, prepared[sizes[phase]], previous,
                    images => PseudoLabelStage.WithLabels(RowSplit.Build(images.Rows, Spec.Data), images, roundLabels.Folder), weights);
                if (previous.Outcome != CacheOutcome.Deferred) history.AddRange(TrainStage.ReadHistory(previous.Folder));
            }
            model = previous!;
        }
        return Trained = new(model, Spec.Train.FinalFit ? FinalFitPhases(sizes, prepared, model, labels) : null);
    }

    StageRun PseudoLabel(int round, StageRun model, StageRun prepared, StageRun? previous, IImageSource source)
    {
        var request = PseudoLabelStage.Request(experiment, round, model.Key, prepared.Key, previous?.Key);
        var run = Stage(request, $"pseudo-label round {round}", folder =>
        {
            using var images = PreparedSet.Open(prepared.Folder);
            return _observer.Progress(ctx =>
            {
                var task = ctx.Add($"pseudo-label round {round}: embeddings", images.Count);
                return PseudoLabelStage.Compute(SpecFor(PseudoLabelStage.Declaration), round, images, model.Folder, source.ReadTestLabels(), folder, n => task.Increment(n));
            });
        });
        if (run.Outcome == CacheOutcome.Deferred) return run;
        var s = run.Manifest.Summary;
        _rounds.Add(s);
        string right = s["accuracy"] is JsonValue a ? $", {a.GetValue<double>():P0} of them right" : "";
        _observer.Note($"pseudo-label round {round}: {s["added"]} of {s["test_images"]} test photos added ({s["candidates"]} at or above " +
                       $"{Spec.PseudoLabel.MinSimilarity:F2}{right}); validation MAP@5 of the model that labelled them {s["val_map5"]!.GetValue<double>():F4}");
        return run;
    }

    /// <summary>Every phase again on all training images (plus the last round's pseudo-labels), the last phase as long as the fold run's best epoch.</summary>
    StageRun FinalFitPhases(IReadOnlyList<int> sizes, Dictionary<int, StageRun> prepared, StageRun foldRun, StageRun? labels)
    {
        int epochs = FinalFit.ChosenEpochs(TrainStage.ReadHistory(OutputsOf(foldRun)), Spec.Train.Phases[^1].Epochs);
        var spec = FinalFit.Spec(Spec, epochs);
        StageRun? previous = null;
        for (int phase = 0; phase < sizes.Count; phase++)
        {
            int phaseEpochs = spec.Train.Phases[phase].Epochs;
            var weights = ImageNetWeightsFor(previous);
            var request = FinalFit.Request(experiment, phase, sizes[phase], phaseEpochs, prepared[sizes[phase]].Key, previous?.Key, foldRun.Key, labels?.Key,
                options.RepoRoot, weights?.Key);
            previous = Train(request, $"final fit phase {phase + 1} ({sizes[phase]}px, {phaseEpochs} epochs)", spec, phase, prepared[sizes[phase]], previous,
                images =>
                {
                    var all = RowSplit.BuildAll(images.Rows, Spec.Data);
                    return labels is null ? all : PseudoLabelStage.WithLabels(all, images, labels.Folder);
                }, weights);
        }
        return previous!;
    }

    /// <summary>
    /// Per round r: pseudo_round{r}_added (and _accuracy when test labels exist), and the validation MAP@5 of the model
    /// each round started from (pseudo_round{r-1}_val_map5); the last round's model is evaluate's val_map5.
    /// </summary>
    IReadOnlyDictionary<string, double> WithRoundMetrics(IReadOnlyDictionary<string, double> metrics)
    {
        if (_rounds.Count == 0) return metrics;
        var all = new Dictionary<string, double>(metrics);
        foreach (var s in _rounds)
        {
            int r = s["round"]!.GetValue<int>();
            all[$"pseudo_round{r - 1}_val_map5"] = s["val_map5"]!.GetValue<double>();
            all[$"pseudo_round{r}_added"] = s["added"]!.GetValue<int>();
            if (s["accuracy"] is JsonValue a) all[$"pseudo_round{r}_accuracy"] = a.GetValue<double>();
        }
        if (EvaluateStage.ModelNames(Spec) is [EvaluateStage.Self] && metrics.TryGetValue("val_map5", out double last))
            all[$"pseudo_round{_rounds.Count}_val_map5"] = last;
        return all;
    }
}
