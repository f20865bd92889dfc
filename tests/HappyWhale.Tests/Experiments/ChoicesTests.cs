using System.Text.Json;
using HappyWhale.Experiments;

namespace HappyWhale.Tests.Experiments;

/// <summary>Every {a|b} choice of defaults.yaml is an enum of the spec with the same names, so choices are bound once.</summary>
public sealed class ChoicesTests
{
    /// <summary>Choices that are not a closed set of words: the backbone registry (its own test), a device pattern (cuda:N).</summary>
    static readonly string[] NotEnums = ["model.backbone", "train.device"];

    [Fact]
    public void Every_choice_in_the_schema_is_an_enum_with_the_same_names()
    {
        var schema = SchemaFromDefaults.Load(ExperimentFiles.DefaultsPath);
        var choices = Nodes(schema.Root).Where(n => n.Choices is not null && !NotEnums.Contains(n.Path)).ToList();
        Assert.NotEmpty(choices);
        var problems = new List<string>();
        foreach (var node in choices)
        {
            var type = SpecProperties.TypeOf(node.Path);
            if (type is null || !type.IsEnum) { problems.Add($"{node.Path}: a choice of {string.Join("|", node.Choices!)} bound as {type?.Name ?? "nothing"}, not an enum"); continue; }
            var names = Enum.GetNames(type).Select(JsonNamingPolicy.SnakeCaseLower.ConvertName).ToList();
            if (!names.SequenceEqual(node.Choices!))
                problems.Add($"{node.Path}: schema {string.Join("|", node.Choices!)}, enum {type.Name} {string.Join("|", names)}");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    static IEnumerable<SchemaNode> Nodes(SchemaNode node) =>
        new[] { node }.Concat(node.Children.SelectMany(c => Nodes(c.Value))).Concat(node.Element is { } e ? Nodes(e) : []);
}
