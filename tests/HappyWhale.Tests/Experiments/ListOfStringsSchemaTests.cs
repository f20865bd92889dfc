using HappyWhale.Experiments;

namespace HappyWhale.Tests.Experiments;

public class ListOfStringsSchemaTests
{
    [Fact]
    public void List_rule_declares_a_list_of_strings_with_an_empty_default()
    {
        var schema = SchemaFromDefaults.Load(ExperimentFiles.DefaultsPath);
        var species = schema.Find("data.species")!;
        Assert.Equal(SchemaType.ListOfScalars, species.Type);
        Assert.Equal(SchemaType.String, species.Element!.Type);
        Assert.Empty(species.Default!.AsArray());
        Assert.Equal("a list of strings", species.TypeName);
        Assert.Equal(["boxes.csv"], schema.Find("prepare.boxes")!.Default!.AsArray().Select(n => n!.GetValue<string>()));
    }

    [Fact]
    public void Lists_of_strings_load_from_files_and_set_and_bind()
    {
        using var files = new ExperimentFiles();
        files.Write("e.yaml", "data:\n  species: [beluga, humpback_whale]\nprepare:\n  boxes:\n    - a.csv\n    - b.csv\n");
        var e = files.Load("e");
        Assert.Equal(["beluga", "humpback_whale"], e.Spec.Data.Species);
        Assert.Equal(["a.csv", "b.csv"], e.Spec.Prepare.Boxes);
        Assert.Empty(files.Load("e", "data.species=[]").Spec.Data.Species);
        Assert.Equal(["orca"], files.Load("e", "data.species=[orca]").Spec.Data.Species);
        Assert.Contains("  - beluga", e.ToYaml());
        Assert.Equal("humpback_whale", e.Flatten()["data.species.1"]);
    }

    [Fact]
    public void Wrong_shapes_are_reported_at_the_element()
    {
        using var files = new ExperimentFiles();
        files.Write("e.yaml", "data:\n  species: beluga\nprepare:\n  boxes: [a.csv, [b.csv]]\n");
        var error = files.Fail("e");
        Assert.Contains(error.Errors, x => x.Message == "data.species must be a list of strings, not " + "'beluga'".Trim() || x.Message.StartsWith("data.species must be a list of strings"));
        Assert.Contains(error.Errors, x => x.Message.StartsWith("prepare.boxes.1 must be string"));
    }

    [Fact]
    public void Malformed_list_rules_are_reported()
    {
        using var files = new ExperimentFiles();
        var path = files.Write("bad/defaults.yaml", "a: []   # <list<thing>> unknown element type\nb: 3    # <list<string>> not a list\nc: [1, x] # <list<int>> bad element\n");
        var e = Assert.Throws<ExperimentException>(() => SchemaFromDefaults.Load(path));
        Assert.Equal([1, 2, 3], e.Errors.Select(x => x.Line).Order());
    }
}
