using System.Globalization;

namespace HappyWhale.Tracking;

/// <summary>
/// Formats a double the way Python's repr(float) does, because MLflow's FileStore writes metric lines with
/// f"{timestamp} {value} {step}" (mlflow/store/tracking/file_store.py, _log_run_metric). Matching it keeps
/// our files byte-identical to Python-written ones ("1.0", "1e-05", "nan", "inf").
/// </summary>
public static class PythonFloat
{
    public static string Repr(double value)
    {
        if (double.IsNaN(value)) return "nan";
        if (double.IsPositiveInfinity(value)) return "inf";
        if (double.IsNegativeInfinity(value)) return "-inf";

        // .NET's "R" gives the shortest round-trip digits, the same digits Python picks; only the layout differs.
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        bool negative = text.StartsWith('-');
        if (negative) text = text[1..];
        int exponent = 0;
        int e = text.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            exponent = int.Parse(text[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            text = text[..e];
        }
        int dot = text.IndexOf('.');
        string digits = dot >= 0 ? text.Remove(dot, 1) : text;
        // decimalPoint: value = 0.DIGITS * 10^decimalPoint
        int decimalPoint = (dot >= 0 ? dot : text.Length) + exponent;
        int lead = 0;
        while (lead < digits.Length - 1 && digits[lead] == '0') { lead++; decimalPoint--; }
        digits = digits[lead..].TrimEnd('0');
        string sign = negative ? "-" : "";
        if (digits.Length == 0) return sign + "0.0";

        // Python's repr switches to exponent form when the decimal exponent is < -4 or >= 16.
        if (decimalPoint > -4 && decimalPoint <= 16)
        {
            if (decimalPoint <= 0) return sign + "0." + new string('0', -decimalPoint) + digits;
            if (decimalPoint >= digits.Length) return sign + digits + new string('0', decimalPoint - digits.Length) + ".0";
            return sign + digits[..decimalPoint] + "." + digits[decimalPoint..];
        }
        int exp10 = decimalPoint - 1;
        string mantissa = digits.Length == 1 ? digits : digits[0] + "." + digits[1..];
        return sign + mantissa + "e" + (exp10 < 0 ? "-" : "+") + Math.Abs(exp10).ToString("00", CultureInfo.InvariantCulture);
    }
}
