using HappyWhale.Experiments;
using HappyWhale.Pipeline;
using HappyWhale.Tests.EndToEnd;

namespace HappyWhale.Tests.Evaluation;

/// <summary>The evaluate stage's options on the tiny synthetic run: TTA, ensembles of trained models, per-species MAP@5.</summary>
public class EvaluateStageOptionsTests
{
    [Fact]
    public void Tta_ensembles_and_species_breakdown_reach_metrics_and_the_cache_key()
    {
        using var repo = new TestRepository();
        repo.Write("tiny.yaml", TinyExperiment.Yaml);
        // A second experiment that only evaluates tiny's trained model: no training of its own.
        repo.Write("reuse.yaml", "extends: tiny.yaml\nevaluate:\n  models: [tiny]\n");
        var options = new PipelineOptions(repo.Root);
        PipelineResult Run(string name, params string[] sets) =>
            new ExperimentPipeline(ExperimentLoader.Load(repo.Experiments, name, sets), options).Run(StageNames.Evaluate);

        var plain = Run("tiny");
        Assert.DoesNotContain("val_map5_no_tta", plain.Metrics.Keys);
        var valSpecies = plain.Metrics.Keys.Where(k => k.StartsWith("val_map5_by_species/", StringComparison.Ordinal)).ToList();
        var testSpecies = plain.Metrics.Keys.Where(k => k.StartsWith("test_map5_by_species/", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(valSpecies);
        Assert.NotEmpty(testSpecies);
        Assert.All(valSpecies.Concat(testSpecies), k => Assert.InRange(plain.Metrics[k], 0.0, 1.0));

        var tta = Run("tiny", "evaluate.tta_hflip=true");
        Assert.Equal(CacheOutcome.Hit, tta.Last("train")!.Outcome);
        Assert.Equal(CacheOutcome.Computed, tta.Last("evaluate")!.Outcome);
        // The no-TTA figures come from the same embeddings as the plain run, so they match it exactly.
        Assert.Equal(plain.Metrics["val_map5"], tta.Metrics["val_map5_no_tta"], 12);
        Assert.Equal(plain.Metrics["test_map5"], tta.Metrics["test_map5_no_tta"], 12);

        // Two copies of the same model average to that model: same scores, but its own cache entry.
        var twice = Run("tiny", "evaluate.models=[self, self]");
        Assert.NotEqual(plain.Last("evaluate")!.Key, twice.Last("evaluate")!.Key);
        Assert.Equal(plain.Metrics["val_map5"], twice.Metrics["val_map5"], 6);
        Assert.Equal(plain.Metrics["test_map5"], twice.Metrics["test_map5"], 6);
        Assert.Equal(2, twice.Metrics["models"]);

        // Evaluating another experiment's model: its stages are cache hits and nothing new is trained.
        var reuse = Run("reuse");
        Assert.All(reuse.Stages.Where(s => s.Stage == StageNames.Train), s => Assert.Equal(CacheOutcome.Hit, s.Outcome));
        Assert.Equal(plain.Metrics["val_map5"], reuse.Metrics["val_map5"], 6);
    }
}
