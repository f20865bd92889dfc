using HappyWhale.Experiments;

namespace HappyWhale.Cli;

/// <summary>
/// The options and positional words each verb reads. Anything else is an error naming the nearest
/// valid option: a misspelt `--sett` must not run silently with the defaults. A verb not listed here
/// is not checked, so a new verb works before it is added; its options belong here once it reads any.
/// </summary>
public static class CliOptions
{
    static readonly string[] Executor = ["executor", "retry", "detach"];
    static readonly string[] Pipeline = ["exp", "set", "overlay", "force", "verify", .. Executor];
    static readonly string[] Submission = ["ablation", "exp", "regression"];
    static readonly string[] Everywhere = ["repo", "help"];

    static readonly Dictionary<string, (string[] Options, int Positional)> Verbs = new(StringComparer.Ordinal)
    {
        ["run"] = (Pipeline, 0),
        ["synth"] = ([.. Pipeline, "preview"], 0),
        ["prepare"] = (Pipeline, 0),
        ["train"] = (Pipeline, 0),
        ["evaluate"] = (Pipeline, 0),
        ["show"] = (["exp", "set", "overlay"], 0),
        ["regression"] = (["update-baselines", "seeds", "seed", "exact", "force", "verify", .. Executor], 0),
        ["ablation"] = (["ablation", "force", "verify", .. Executor], 1),
        ["diff"] = (["set"], 2),
        ["score"] = (["submission", "labels"], 0),
        ["sync-tracking"] = (["exp", "set", "overlay"], 0),
        ["status"] = (Submission, 0),
        ["cancel"] = (Submission, 0),
        ["stage"] = (["stages", "index"], 0),
    };

    /// <summary>The options <paramref name="verb"/> accepts (with --repo and --help), or null for a verb not checked.</summary>
    public static IReadOnlyList<string>? Accepted(string verb) =>
        Verbs.TryGetValue(verb, out var v) ? [.. v.Options, .. Everywhere] : null;

    /// <exception cref="UserException">for an option or a positional word the verb does not read</exception>
    public static void Check(CliArgs cli)
    {
        if (!Verbs.TryGetValue(cli.Verb, out var verb)) return;
        var accepted = Accepted(cli.Verb)!;
        string takes = $"{cli.Verb} takes {string.Join(", ", accepted.Select(o => "--" + o))}";
        foreach (var name in cli.Names)
        {
            if (accepted.Contains(name)) continue;
            var nearest = EditDistance.Nearest(name, accepted);
            string hint = nearest is null ? "" : $"; did you mean --{nearest}?";
            throw new UserException($"unknown option --{name} for '{cli.Verb}'{hint} ({takes}).");
        }
        if (cli.Positional.Count > verb.Positional)
        {
            string extra = cli.Positional[verb.Positional];
            string hint = verb.Options.Contains("exp") && !cli.Has("exp") ? $"; did you mean --exp {extra}?" : "";
            throw new UserException($"unexpected argument '{extra}' for '{cli.Verb}'{hint} ({takes}).");
        }
    }
}
