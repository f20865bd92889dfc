using HappyWhale.Experiments;
using HappyWhale.Pipeline;
using HappyWhale.Tests.Experiments;

namespace HappyWhale.Tests.Evaluation;

/// <summary>evaluate.models: the list-of-strings schema type, its validation, and how the evaluate key uses it.</summary>
public class ModelListSchemaTests
{
    [Fact]
    public void Defaults_declare_models_as_an_empty_list_of_strings_and_tta_off()
    {
        var schema = SchemaFromDefaults.Load(ExperimentFiles.DefaultsPath);
        var models = schema.Find("evaluate.models")!;
        Assert.Equal(SchemaType.ListOfScalars, models.Type);
        Assert.Empty(models.Default!.AsArray());
        Assert.Equal("a list of strings", models.TypeName);
        Assert.Equal(SchemaType.Bool, schema.Find("evaluate.tta_hflip")!.Type);

        using var files = new ExperimentFiles();
        files.Write("plain.yaml", "description: x\n");
        var spec = files.Load("plain").Spec;
        Assert.Empty(spec.Evaluate.Models);
        Assert.False(spec.Evaluate.TtaHflip);
        Assert.Equal([EvaluateStage.Self], EvaluateStage.ModelNames(spec));
    }

    [Fact]
    public void A_list_of_names_binds_to_the_spec_from_a_file_and_from_set()
    {
        using var files = new ExperimentFiles();
        files.Write("ens.yaml", "evaluate:\n  tta_hflip: true\n  models: [self, b5_fold1, 'ci/smoke']   # a comment after a flow list\n");
        var spec = files.Load("ens").Spec;
        Assert.True(spec.Evaluate.TtaHflip);
        Assert.Equal(["self", "b5_fold1", "ci/smoke"], spec.Evaluate.Models);

        Assert.Equal(["other"], files.Load("ens", "evaluate.models=[other]").Spec.Evaluate.Models);
        Assert.Equal(["self", "x", "ci/smoke"], files.Load("ens", "evaluate.models.1=x").Spec.Evaluate.Models);
        Assert.Empty(files.Load("ens", "evaluate.models=[]").Spec.Evaluate.Models);
    }

    [Fact]
    public void Block_style_lists_and_numbers_read_as_strings()
    {
        using var files = new ExperimentFiles();
        files.Write("ens.yaml", "evaluate:\n  models:\n    - fold0\n    - 42\n");
        Assert.Equal(["fold0", "42"], files.Load("ens").Spec.Evaluate.Models);
    }

    [Theory]
    [InlineData("evaluate:\n  models: [{experiment: a}]\n", 2, 12, "evaluate.models.0 must be string, not a map")]
    [InlineData("evaluate:\n  models: [a, null]\n", 2, 15, "evaluate.models.1 must be string, not null")]
    [InlineData("evaluate:\n  models: a\n", 2, 11, "evaluate.models must be a list of strings, not 'a'")]
    public void Wrong_shapes_are_reported_where_they_are(string yaml, int line, int column, string message)
    {
        using var files = new ExperimentFiles();
        files.Write("e.yaml", yaml);
        var error = Assert.Single(files.Fail("e").Errors);
        Assert.Contains(message, error.Message);
        Assert.Equal((line, column), (error.Line, error.Column));
    }

    [Fact]
    public void An_empty_list_default_without_a_rule_is_still_an_error()
    {
        using var files = new ExperimentFiles();
        var path = Path.Combine(files.Dir, "defaults.yaml");
        File.AppendAllText(path, "extra: []                   # no element type\n");
        var e = Assert.Throws<ExperimentException>(() => SchemaFromDefaults.Load(path));
        Assert.Contains("a list default must hold at least one map", Assert.Single(e.Errors).Message);
    }

    [Fact]
    public void The_evaluate_key_covers_every_models_train_key()
    {
        using var files = new ExperimentFiles();
        files.Write("e.yaml", "evaluate:\n  models: [self, other]\n");
        var experiment = files.Load("e");
        var model = experiment.Spec.Model;
        EvaluationModel Own(string key) => new(EvaluateStage.Self, model, key, "/nowhere");
        EvaluationModel Other(string key) => new("other", model, key, "/nowhere");

        var baseline = EvaluateStage.Request(experiment, [Own("t1"), Other("t2")], "p").Key;
        Assert.NotEqual(baseline, EvaluateStage.Request(experiment, [Own("t1"), Other("t3")], "p").Key);
        Assert.NotEqual(baseline, EvaluateStage.Request(experiment, [Own("t9"), Other("t2")], "p").Key);
        Assert.NotEqual(baseline, EvaluateStage.Request(experiment, [Own("t1")], "p").Key);
        Assert.Equal(baseline, EvaluateStage.Request(experiment, [Own("t1"), Other("t2")], "p").Key);
        Assert.Contains("train.1.other", EvaluateStage.Request(experiment, [Own("t1"), Other("t2")], "p").Inputs.Keys);
    }
}
