using HappyWhale.Experiments;

namespace HappyWhale.Tests.Experiments;

public class SchemaFromDefaultsTests
{
    private static readonly ExperimentSchema Schema = SchemaFromDefaults.Load(ExperimentFiles.DefaultsPath);

    [Fact]
    public void Enum_rule_gives_choices_and_description()
    {
        var source = Schema.Find("data.source")!;
        Assert.Equal(SchemaType.String, source.Type);
        Assert.Equal(["synthetic", "kaggle", "folder"], source.Choices);
        Assert.StartsWith("where images come from", source.Description);
        Assert.Equal("synthetic", source.Default!.GetValue<string>());
    }

    [Fact]
    public void Range_rule_and_number_types_follow_the_default()
    {
        var folds = Schema.Find("data.folds")!;
        Assert.Equal(SchemaType.Int, folds.Type);
        Assert.Equal((2.0, 100.0), folds.Range);

        var gemP = Schema.Find("model.gem_p")!;
        Assert.Equal(SchemaType.Float, gemP.Type);
        Assert.Equal(3.0, gemP.Default!.GetValue<double>());

        var threshold = Schema.Find("evaluate.new_individual_threshold")!;
        Assert.Equal((-1.0, 1.0), threshold.Range);
        Assert.Equal(SchemaType.Bool, Schema.Find("prepare.grayscale")!.Type);
    }

    [Fact]
    public void Type_rule_declares_nullable_keys()
    {
        var root = Schema.Find("data.root")!;
        Assert.Equal(SchemaType.String, root.Type);
        Assert.True(root.Nullable);
        Assert.Null(root.Default);
        Assert.False(Schema.Find("data.seed")!.Nullable);
    }

    [Fact]
    public void List_of_maps_takes_its_element_schema_from_the_first_element()
    {
        var phases = Schema.Find("train.phases")!;
        Assert.Equal(SchemaType.ListOfMaps, phases.Type);
        Assert.Equal(["image_size", "epochs", "lr", "batch_size"], phases.Element!.Children.Select(c => c.Key));
        var imageSize = Schema.Find("train.phases.0.image_size")!;
        Assert.Equal(SchemaType.Int, imageSize.Type);
        Assert.True(imageSize.Nullable);
        Assert.Equal(1e-3, Schema.Find("train.phases.lr")!.Default!.GetValue<double>());
    }

    [Fact]
    public void Maps_keep_file_order()
    {
        Assert.Equal(["name", "description", "data", "synth", "prepare", "model", "train", "evaluate", "pseudo_label", "cache", "executor", "slurm", "tracking"],
            Schema.Root.Children.Select(c => c.Key));
        Assert.Null(Schema.Find("train.nope"));
    }

    [Fact]
    public void Malformed_rules_are_reported_with_positions()
    {
        using var files = new ExperimentFiles();
        var path = files.Write("bad/defaults.yaml", """
            a: null          # no type rule
            b: 5             # [10, 20] default outside
            c: x             # {y|z} default not a choice
            d: null          # <int> null without ?
            """);
        var e = Assert.Throws<ExperimentException>(() => SchemaFromDefaults.Load(path));
        Assert.Equal([1, 2, 3, 4], e.Errors.Select(x => x.Line));
        Assert.Contains("<type>", e.Errors[0].Message);
        Assert.Contains("range", e.Errors[1].Message);
    }
}
