using HappyWhale.Experiments;
using HappyWhale.Pipeline;
using HappyWhale.Reporting;
using HappyWhale.Tests.EndToEnd;

namespace HappyWhale.Tests.Pipeline;

public class AblationRoundsTests
{
    [Fact]
    public void The_report_lists_each_round_of_the_variants_that_pseudo_label_as_means_over_seeds()
    {
        using var repo = new TestRepository();
        repo.Write("tiny.yaml", TinyExperiment.Yaml);
        var experiment = ExperimentLoader.Load(repo.Experiments, "tiny");
        AblationRun Run(string variant, int seed, Dictionary<string, double> metrics) =>
            new(variant, seed, experiment, new PipelineResult("tiny", [], [], metrics, ""), 1);
        var runs = new[]
        {
            Run("base", 1, new() { ["test_map5"] = 0.2 }),
            Run("pl", 1, new() { ["pseudo_round0_val_map5"] = 0.4, ["pseudo_round1_added"] = 10, ["pseudo_round1_accuracy"] = 0.5, ["pseudo_round1_val_map5"] = 0.5 }),
            Run("pl", 2, new() { ["pseudo_round0_val_map5"] = 0.6, ["pseudo_round1_added"] = 20, ["pseudo_round1_accuracy"] = 0.7, ["pseudo_round1_val_map5"] = 0.7 }),
        };
        var spec = new AblationSpec("a", "a.yaml", "tiny", [1, 2], "test_map5",
            [new AblationVariant("base", [], []), new AblationVariant("pl", ["pseudo_label.rounds=1"], [])]);

        var md = AblationReport.RoundsMarkdown(spec, runs);

        Assert.Contains("| pl | 0 | — | — | 0.5000 ± 0.1414 |", md);
        Assert.Contains("| pl | 1 | 15.0 | 60% | 0.6000 ± 0.1414 |", md);
        Assert.DoesNotContain("| base |", md);
        Assert.Equal("", AblationReport.RoundsMarkdown(spec, runs.Take(1).ToList()));
    }
}
