using System.Text.RegularExpressions;

namespace HappyWhale.Tracking;

/// <summary>
/// MLflow's naming and size rules for run keys, so a record we write is one MLflow would also accept.
/// Followed: mlflow/mlflow mlflow/utils/validation.py (2.x): _VALID_PARAM_AND_METRIC_NAMES = ^[/\w.\- ]*$,
/// path_not_unique (posixpath.normpath must not change the name, nor give ".", "..*" or "/*"),
/// MAX_ENTITY_KEY_LENGTH = 250, MAX_PARAM_VAL_LENGTH = 6000, MAX_TAG_VAL_LENGTH = 5000,
/// MAX_EXPERIMENT_NAME_LENGTH = 500, _RUN_ID_REGEX = ^[a-zA-Z0-9][\w\-]{0,255}$.
/// </summary>
public static partial class MlflowNames
{
    public const int MaxKeyLength = 250;
    public const int MaxParamValueLength = 6000;
    public const int MaxTagValueLength = 5000;
    public const int MaxExperimentNameLength = 500;

    // \z instead of Python's $ so a trailing newline is rejected too (it would make a broken file name).
    [GeneratedRegex(@"^[/\w.\- ]*\z")]
    private static partial Regex KeyChars();

    [GeneratedRegex(@"^[a-zA-Z0-9][\w\-]{0,255}\z")]
    private static partial Regex RunIdChars();

    [GeneratedRegex(@"[^\w.\- ]")]
    private static partial Regex NotKeyPartChar();

    /// <summary>
    /// A data-derived name (a species, say "Japanese_(katakana)") made safe as one segment of a key:
    /// every character MLflow refuses, and '/', becomes '_'; "." and ".." become "_" and "__".
    /// </summary>
    public static string KeyPart(string name)
    {
        var safe = NotKeyPartChar().Replace(name, "_");
        return safe is "" or "." or ".." ? new string('_', Math.Max(1, safe.Length)) : safe;
    }

    /// <summary>
    /// A metric key as the pipeline names it, made safe to log: the part after the first '/' is a name taken from
    /// the data (evaluate's "val_map5_by_species/&lt;species&gt;") and is cleaned with <see cref="KeyPart"/>; the pipeline's
    /// own names pass unchanged. Tracking cleans here, so the stages need not know MLflow's rules.
    /// </summary>
    public static string MetricKey(string key)
    {
        int slash = key.IndexOf('/');
        return slash < 0 ? key : key[..(slash + 1)] + KeyPart(key[(slash + 1)..]);
    }

    /// <summary>Throws ArgumentException unless <paramref name="key"/> is a valid metric/param/tag name.</summary>
    public static void ValidateKey(string kind, string? key)
    {
        if (key is null)
            throw new ArgumentException($"{kind} name cannot be null. A key name must be provided.");
        if (!KeyChars().IsMatch(key))
            throw new ArgumentException(
                $"Invalid {kind} name: '{key}'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), and slashes (/).");
        if (PathNotUnique(key))
            throw new ArgumentException(
                $"Invalid {kind} name: '{key}'. Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '{PosixNormPath(key)}'.");
        if (key.Length > MaxKeyLength)
            throw new ArgumentException($"{kind} name '{key[..Math.Min(key.Length, 100)]}...' has length {key.Length}, which exceeds the MLflow limit of {MaxKeyLength}.");
    }

    /// <summary>The arguments every tracker's StartRun checks before doing anything.</summary>
    public static void ValidateStartRun(string experimentName, string runName, IReadOnlyDictionary<string, string> tags, string? parentRunId)
    {
        ValidateExperimentName(experimentName);
        if (string.IsNullOrWhiteSpace(runName))
            throw new ArgumentException("A run name is required (MLflow would invent a random one; we want names we chose).", nameof(runName));
        ArgumentNullException.ThrowIfNull(tags);
        if (parentRunId is not null) ValidateRunId(parentRunId);
    }

    /// <summary>Checks a metric's key and timestamp (now when not given) and returns the timestamp.</summary>
    public static long ValidateMetric(string key, long? timestampMs)
    {
        ValidateKey("metric", key);
        long timestamp = timestampMs ?? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        if (timestamp < 0)
            throw new ArgumentException($"Got invalid timestamp {timestamp} for metric '{key}'. Timestamp must be a nonnegative long (64-bit integer).");
        return timestamp;
    }

    /// <summary>Throws when a param/tag value is longer than MLflow accepts.</summary>
    public static void ValidateValue(string kind, string key, string? value, int limit)
    {
        if (value is null)
            throw new ArgumentException($"{kind} '{key}' has a null value.");
        if (value.Length > limit)
            throw new ArgumentException($"{kind} value for '{key}' has length {value.Length}, which exceeds the MLflow limit of {limit}.");
    }

    public static void ValidateExperimentName(string? name)
    {
        if (string.IsNullOrEmpty(name))
            throw new ArgumentException($"Invalid experiment name: '{name}'.");
        if (name.Length > MaxExperimentNameLength)
            throw new ArgumentException($"Experiment name exceeds the maximum length of {MaxExperimentNameLength} characters.");
    }

    public static void ValidateRunId(string? runId)
    {
        if (runId is null || !RunIdChars().IsMatch(runId))
            throw new ArgumentException($"Invalid run ID: '{runId}'.");
    }

    /// <summary>Relative artifact sub-folder check, same rule MLflow's verify_artifact_path applies.</summary>
    public static void ValidateArtifactPath(string? artifactPath)
    {
        if (!string.IsNullOrEmpty(artifactPath) && PathNotUnique(artifactPath))
            throw new ArgumentException(
                $"Invalid artifact path: '{artifactPath}'. It would resolve to '{PosixNormPath(artifactPath)}'; use a relative path without '.', '..' or doubled slashes.");
    }

    /// <summary>MLflow's path_not_unique: the name must already be its own normal form and stay inside its folder.</summary>
    public static bool PathNotUnique(string name)
    {
        var norm = PosixNormPath(name);
        return norm != name || norm == "." || norm.StartsWith("..", StringComparison.Ordinal) || norm.StartsWith('/');
    }

    /// <summary>Python's posixpath.normpath, enough for the comparison above.</summary>
    public static string PosixNormPath(string path)
    {
        if (path.Length == 0) return ".";
        int leadingSlashes = path.StartsWith('/') ? (path.StartsWith("//", StringComparison.Ordinal) && !path.StartsWith("///", StringComparison.Ordinal) ? 2 : 1) : 0;
        var parts = new List<string>();
        foreach (var part in path.Split('/'))
        {
            if (part.Length == 0 || part == ".") continue;
            bool keepDotDot = part == ".." && leadingSlashes == 0 && (parts.Count == 0 || parts[^1] == "..");
            if (part != ".." || keepDotDot)
                parts.Add(part);
            else if (parts.Count > 0)
                parts.RemoveAt(parts.Count - 1);
        }
        var joined = new string('/', leadingSlashes) + string.Join('/', parts);
        return joined.Length == 0 ? "." : joined;
    }
}
