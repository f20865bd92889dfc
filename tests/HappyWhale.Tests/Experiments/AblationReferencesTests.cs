using HappyWhale.Experiments;
using HappyWhale.Pipeline;
using HappyWhale.Reporting;

namespace HappyWhale.Tests.Experiments;

public class AblationReferencesTests
{
    const string TwoDataSets = """
        base: small
        seeds: [1, 2]
        variants:
          scratch: {}
          imagenet: {model.embedding_dim: 16}
          other_scratch: {synth.seed: 3}
          other_imagenet: {synth.seed: 3, model.embedding_dim: 16}
        references:
          other_imagenet: other_scratch
        """;

    static AblationSpec Load(ExperimentFiles files, string yaml)
    {
        files.Write("small.yaml", "description: small\n");
        files.Write("ablations/a.yaml", yaml);
        return AblationLoader.Load(files.Dir, "a");
    }

    static AblationRun Run(AblationSpec spec, string variant, int seed, double map5) =>
        new(variant, seed, spec.Variants.First(v => v.Name == variant).Runs[0].Experiment,
            new PipelineResult(variant, [], [], new Dictionary<string, double> { ["test_map5"] = map5 }, ""), 10);

    [Fact]
    public void A_variant_is_compared_with_its_reference_and_a_named_reference_is_a_baseline_row()
    {
        using var files = new ExperimentFiles();
        var spec = Load(files, TwoDataSets);
        Assert.Equal("scratch", spec.ReferenceOf("imagenet"));
        Assert.Equal("other_scratch", spec.ReferenceOf("other_imagenet"));
        Assert.Equal("other_scratch", spec.ReferenceOf("other_scratch"));

        var runs = new[]
        {
            Run(spec, "scratch", 1, 0.20), Run(spec, "scratch", 2, 0.22),
            Run(spec, "imagenet", 1, 0.30), Run(spec, "imagenet", 2, 0.32),
            Run(spec, "other_scratch", 1, 0.80), Run(spec, "other_scratch", 2, 0.82),
            Run(spec, "other_imagenet", 1, 0.84), Run(spec, "other_imagenet", 2, 0.86),
        };
        var rows = AblationReport.Summarise(spec, runs).ToDictionary(r => r.Variant);
        Assert.Equal(0.10, rows["imagenet"].Delta, 6);
        Assert.Equal(0.04, rows["other_imagenet"].Delta, 6);
        Assert.Equal(0, rows["other_scratch"].Delta);
        Assert.Null(rows["other_scratch"].Significant);
        var md = AblationReport.Markdown(spec, rows.Values.ToList());
        Assert.Contains("Δ vs reference", md);
        Assert.Contains("+0.0400 vs other_scratch", md);
        Assert.Contains("+0.1000 vs scratch", md);
    }

    [Fact]
    public void Without_references_the_report_reads_as_before()
    {
        using var files = new ExperimentFiles();
        var spec = Load(files, "base: small\nvariants:\n  base: {}\n  wide: {model.embedding_dim: 16}\n");
        Assert.Null(spec.References);
        Assert.Equal("base", spec.ReferenceOf("wide"));
        Assert.Contains("| Δ vs base |", AblationReport.Markdown(spec, []));
    }

    [Theory]
    [InlineData("references:\n  nope: scratch\n", "references: 'nope' is not a variant of this ablation")]
    [InlineData("references:\n  imagenet: nope\n", "references: 'imagenet' must name another variant of this ablation")]
    [InlineData("references:\n  imagenet: imagenet\n", "references: 'imagenet' must name another variant")]
    [InlineData("references: [scratch]\n", "references must be a map")]
    public void Bad_references_are_named(string references, string message)
    {
        using var files = new ExperimentFiles();
        var yaml = TwoDataSets[..TwoDataSets.IndexOf("references:", StringComparison.Ordinal)] + references;
        var e = Assert.Throws<ExperimentException>(() => Load(files, yaml));
        Assert.Contains(message, e.Message);
        Assert.Contains("a.yaml", e.Message);
    }
}
