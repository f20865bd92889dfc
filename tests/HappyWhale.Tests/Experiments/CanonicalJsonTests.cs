using System.Text.Json.Nodes;
using HappyWhale.Experiments;

namespace HappyWhale.Tests.Experiments;

public class CanonicalJsonTests
{
    [Fact]
    public void Number_spelling_does_not_matter()
    {
        var a = JsonNode.Parse("""{"lr": 1e-3, "s": 30.0, "n": 3}""");
        var b = JsonNode.Parse("""{"lr": 0.001, "s": 30, "n": 3.0}""");
        var c = new JsonObject { ["lr"] = 0.001, ["s"] = 30.0, ["n"] = 3L };
        Assert.Equal("""{"lr":0.001,"n":3,"s":30}""", CanonicalJson.Serialize(a));
        Assert.Equal(CanonicalJson.Serialize(a), CanonicalJson.Serialize(b));
        Assert.Equal(CanonicalJson.Serialize(a), CanonicalJson.Serialize(c));
        Assert.Equal(CanonicalJson.Sha256Hex(a), CanonicalJson.Sha256Hex(b));
    }

    [Fact]
    public void Key_order_does_not_matter_at_any_depth()
    {
        var a = JsonNode.Parse("""{"b": {"y": 1, "x": [ {"q": true, "p": null} ]}, "a": "t"}""");
        var b = JsonNode.Parse("""{"a": "t", "b": {"x": [ {"p": null, "q": true} ], "y": 1}}""");
        Assert.Equal("""{"a":"t","b":{"x":[{"p":null,"q":true}],"y":1}}""", CanonicalJson.Serialize(a));
        Assert.Equal(CanonicalJson.Sha256Hex(a), CanonicalJson.Sha256Hex(b));
        Assert.Matches("^[0-9a-f]{64}$", CanonicalJson.Sha256Hex(a));
    }

    [Fact]
    public void Different_values_hash_differently_and_round_trip()
    {
        Assert.NotEqual(CanonicalJson.Sha256Hex(JsonNode.Parse("[0.1]")), CanonicalJson.Sha256Hex(JsonNode.Parse("[0.10000000000000002]")));
        Assert.Equal("[0.1,1E-05,-2.5,1.7976931348623157E+308]", CanonicalJson.Serialize(JsonNode.Parse("[0.1, 0.00001, -2.5, 1.7976931348623157e308]")));
        Assert.Equal("""["a\"b",null]""", CanonicalJson.Serialize(JsonNode.Parse("""["a\"b", null]""")));
    }

    [Fact]
    public void Experiments_written_differently_have_equal_sections()
    {
        using var files = new ExperimentFiles();
        files.Write("a.yaml", "train:\n  phases:\n    - {lr: 1e-3, epochs: 3}\nmodel:\n  gem_p: 3\n");
        files.Write("b.yaml", "model:\n  gem_p: 3.0\ntrain:\n  phases:\n    - epochs: 3\n      lr: 0.001\n");
        var a = files.Load("a");
        var b = files.Load("b");
        Assert.Equal(CanonicalJson.Sha256Hex(a.Section("train")), CanonicalJson.Sha256Hex(b.Section("train")));
        Assert.Equal(CanonicalJson.Sha256Hex(a.Section("model")), CanonicalJson.Sha256Hex(b.Section("model")));
        Assert.NotEqual(CanonicalJson.Sha256Hex(a.Tree), CanonicalJson.Sha256Hex(b.Tree)); // the names differ
    }
}
