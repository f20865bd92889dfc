using System.Globalization;
using System.Text.RegularExpressions;

namespace HappyWhale.Experiments;

/// <summary>
/// The YAML 1.2 core schema for plain scalars: which texts mean null, a boolean, an integer or a float.
/// Both the schema reader and the validator use it, so defaults.yaml and user files agree on types.
/// </summary>
internal static partial class YamlScalars
{
    [GeneratedRegex(@"^[-+]?[0-9]+$")]
    private static partial Regex IntPattern();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex FloatPattern();

    public static bool IsNull(string text) => text is "" or "~" or "null" or "Null" or "NULL";

    public static bool TryBool(string text, out bool value)
    {
        switch (text)
        {
            case "true" or "True" or "TRUE": value = true; return true;
            case "false" or "False" or "FALSE": value = false; return true;
            default: value = false; return false;
        }
    }

    public static bool TryInt(string text, out long value)
    {
        value = 0;
        return IntPattern().IsMatch(text)
            && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>Accepts integer literals too, because a float key given "3" clearly means 3.0.</summary>
    public static bool TryFloat(string text, out double value)
    {
        value = 0;
        return FloatPattern().IsMatch(text)
            && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value)
            && double.IsFinite(value);
    }

    /// <summary>True when the plain text would be read back as something other than this string.</summary>
    public static bool LooksTyped(string text) =>
        IsNull(text) || TryBool(text, out _) || IntPattern().IsMatch(text) || FloatPattern().IsMatch(text);
}
