using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace HappyWhale.Tracking;

/// <summary>
/// Writes the flat meta.yaml mappings the way MLflow does: yaml.dump(data, default_flow_style=False,
/// allow_unicode=True, sort_keys=True, Dumper=SafeDumper) (mlflow/utils/file_utils.py, write_yaml).
/// So keys are sorted, None is "null", an empty list is "[]", and strings that YAML 1.1 would read as
/// another type (e.g. experiment_id "0") are single-quoted, as PyYAML does.
/// Checked against PyYAML 6.0 (yaml.dump with MLflow's options): byte-identical for 80 tricky strings and for
/// whole meta.yaml files, except a string with a line break, which PyYAML folds into a multi-line single-quoted
/// scalar and we write double-quoted with "\n"; both load to the same value. PyYAML also wraps long plain scalars
/// containing spaces at 80 columns; we keep them on one line, which loads the same.
/// </summary>
public static partial class PyYaml
{
    /// <summary>A value for a meta.yaml field: string, long/int, null, or an empty list.</summary>
    public static readonly object EmptyList = new();

    public static string Dump(IReadOnlyDictionary<string, object?> fields)
    {
        var sb = new StringBuilder();
        foreach (var key in fields.Keys.OrderBy(k => k, StringComparer.Ordinal))
            sb.Append(key).Append(": ").Append(Scalar(fields[key])).Append('\n');
        return sb.ToString();
    }

    private static string Scalar(object? value) => value switch
    {
        null => "null",
        string s => String(s),
        int i => i.ToString(CultureInfo.InvariantCulture),
        long l => l.ToString(CultureInfo.InvariantCulture),
        _ when ReferenceEquals(value, EmptyList) => "[]",
        _ => throw new ArgumentException($"Unsupported meta.yaml value type {value.GetType()}"),
    };

    /// <summary>Plain when safe, single-quoted when YAML would misread it, double-quoted with escapes for control characters.</summary>
    public static string String(string s)
    {
        if (s.Any(c => c < ' ' || c == '\x7f' || c == '\u0085' || c == '\u2028' || c == '\u2029' || c == '\uFEFF'))
            return DoubleQuoted(s);
        if (NeedsQuotes(s))
            return "'" + s.Replace("'", "''") + "'";
        return s;
    }

    private static bool NeedsQuotes(string s)
    {
        if (s.Length == 0) return true;
        if (s[0] == ' ' || s[^1] == ' ') return true;
        if ("#,[]{}&*!|>'\"%@`".Contains(s[0])) return true;
        if ((s[0] == '-' || s[0] == '?' || s[0] == ':') && (s.Length == 1 || s[1] == ' ')) return true;
        if (s.StartsWith("---", StringComparison.Ordinal) || s.StartsWith("...", StringComparison.Ordinal)) return true;
        if (s.Contains(": ", StringComparison.Ordinal) || s.Contains(" #", StringComparison.Ordinal) || s.EndsWith(':')) return true;
        return ImplicitlyTyped().IsMatch(s);
    }

    // PyYAML's implicit resolvers (resolver.py): bool, null, int, float, merge, value, timestamp.
    [GeneratedRegex(
        @"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF" +
        @"|~|null|Null|NULL|<<|=" +
        @"|[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+" +
        @"|[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*" +
        @"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)" +
        @"|[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]" +
        @"|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)\z")]
    private static partial Regex ImplicitlyTyped();

    private static string DoubleQuoted(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\t': sb.Append("\\t"); break;
                case '\r': sb.Append("\\r"); break;
                case '\0': sb.Append("\\0"); break;
                default:
                    if (c < ' ' || c == '\x7f' || c == '\u0085' || c == '\u2028' || c == '\u2029' || c == '\uFEFF')
                        sb.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }
}
