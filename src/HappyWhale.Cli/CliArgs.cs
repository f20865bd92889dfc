namespace HappyWhale.Cli;

/// <summary>The command line, parsed: a verb, named options (repeatable) and positional words.</summary>
public sealed class CliArgs
{
    public string Verb { get; }
    readonly Dictionary<string, List<string>> _options = new(StringComparer.Ordinal);
    public IReadOnlyList<string> Positional { get; }

    CliArgs(string verb, List<string> positional) { Verb = verb; Positional = positional; }

    /// <summary>Accepts --name value, --name=value and bare --flag (value "true").</summary>
    public static CliArgs Parse(string[] args)
    {
        if (args.Length == 0) return new CliArgs("help", []);
        var positional = new List<string>();
        var parsed = new CliArgs(args[0], positional);
        for (int i = 1; i < args.Length; i++)
        {
            string a = args[i];
            if (!a.StartsWith("--")) { positional.Add(a); continue; }
            string name = a[2..], value;
            int eq = name.IndexOf('=');
            if (eq >= 0) { value = name[(eq + 1)..]; name = name[..eq]; }
            else if (!IsFlag(name) && i + 1 < args.Length && !args[i + 1].StartsWith("--")) value = args[++i];
            else value = "true";
            if (!parsed._options.TryGetValue(name, out var list)) parsed._options[name] = list = [];
            list.Add(value);
        }
        return parsed;
    }

    // Flags never take the next word as their value, so `--force train` stays unambiguous: use --force=train.
    static bool IsFlag(string name) => name is "force" or "preview" or "verify" or "update-baselines" or "exact" or "help" or "detach" or "regression";

    public string? Get(string name) => _options.TryGetValue(name, out var v) ? v[^1] : null;
    public IReadOnlyList<string> GetAll(string name) => _options.TryGetValue(name, out var v) ? v : [];
    public bool Has(string name) => _options.ContainsKey(name);
    public IEnumerable<string> Names => _options.Keys;
}
