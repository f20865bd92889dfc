using System.Text.RegularExpressions;
using HappyWhale.Cli;
using HappyWhale.Tests.EndToEnd;

namespace HappyWhale.Tests.Cli;

public partial class CliOptionsTests
{
    [GeneratedRegex("""cli\.(?:Get|GetAll|Has)\("([a-z-]+)"\)""")]
    private static partial Regex OptionRead();

    // An option a verb reads but CliOptions does not list would be refused as unknown: this catches it
    // when a change (or a merge) adds one to Commands.cs only.
    [Fact]
    public void Every_option_the_commands_read_is_accepted_by_some_verb()
    {
        string source = File.ReadAllText(Path.Combine(TestRepository.SourceRoot(), "src", "HappyWhale.Cli", "Commands.cs"));
        var read = OptionRead().Matches(source).Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.NotEmpty(read);
        var accepted = new[] { "run", "synth", "prepare", "train", "evaluate", "show", "regression", "ablation", "diff", "score", "sync-tracking" }
            .SelectMany(v => CliOptions.Accepted(v) ?? []).ToHashSet();
        Assert.Empty(read.Where(o => !accepted.Contains(o)));
    }
}
