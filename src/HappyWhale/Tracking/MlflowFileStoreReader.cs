using System.Globalization;

namespace HappyWhale.Tracking;

/// <summary>A run folder as read from its meta.yaml.</summary>
public sealed record RunRecord(
    string RunId, string ExperimentId, string RunName, RunStatus Status, long StartTime, long? EndTime,
    string ArtifactUri, string LifecycleStage, string UserId, string Directory);

/// <summary>One line of a metric file.</summary>
public readonly record struct MetricPoint(long TimestampMs, double Value, long Step);

/// <summary>
/// Reads an MLflow file store (ours or Python-written) for diffs and reports. Read rules follow
/// mlflow/store/tracking/file_store.py: runs are the sub-folders of an experiment with a valid meta.yaml whose
/// experiment_id matches; params/tags/metrics are every file under their folder, keyed by relative path;
/// a metric line is "timestamp value [step]"; the latest value is the max by (step, timestamp, value).
/// </summary>
public sealed class MlflowFileStoreReader
{
    // Folders inside an experiment that are not runs (FileStore.RESERVED_EXPERIMENT_FOLDERS).
    private static readonly string[] ReservedExperimentFolders = ["tags", "datasets", "traces"];

    public string RootDirectory { get; }

    public MlflowFileStoreReader(string rootDirectory) => RootDirectory = Path.GetFullPath(rootDirectory);

    /// <summary>Active experiments (the trash is not included).</summary>
    public IReadOnlyList<ExperimentRecord> ListExperiments() => MlflowFileStore.ExperimentScanner.ListActive(RootDirectory);

    public ExperimentRecord? FindExperiment(string name) => ListExperiments().FirstOrDefault(e => e.Name == name);

    /// <summary>Active runs of the named experiment, newest first (MLflow's default order, start_time DESC); empty if it does not exist.</summary>
    public IReadOnlyList<RunRecord> ListRuns(string experimentName)
    {
        var experiment = FindExperiment(experimentName);
        if (experiment is null) return [];
        return ReadRuns(experiment).Where(r => r.LifecycleStage == "active")
            .OrderByDescending(r => r.StartTime).ThenBy(r => r.RunId, StringComparer.Ordinal).ToList();
    }

    /// <summary>The run with this id in any active experiment, or null.</summary>
    public RunRecord? FindRun(string runId)
    {
        MlflowNames.ValidateRunId(runId);
        foreach (var experiment in ListExperiments())
        {
            var dir = Path.Combine(experiment.Directory, runId);
            if (Directory.Exists(dir) && ReadRun(dir, experiment.ExperimentId) is { } run) return run;
        }
        return null;
    }

    public IReadOnlyDictionary<string, string> ReadParams(string runId) => ReadParams(RequireRun(runId));

    public IReadOnlyDictionary<string, string> ReadParams(RunRecord run) => ReadEntries(run, MlflowFileRun.ParamsFolder);

    public IReadOnlyDictionary<string, string> ReadTags(string runId) => ReadTags(RequireRun(runId));

    public IReadOnlyDictionary<string, string> ReadTags(RunRecord run) => ReadEntries(run, MlflowFileRun.TagsFolder);

    /// <summary>Every metric's full history, in file order.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<MetricPoint>> ReadMetricHistories(string runId) => ReadMetricHistories(RequireRun(runId));

    /// <summary>The same for a run already found (no second scan of the store).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<MetricPoint>> ReadMetricHistories(RunRecord run)
    {
        var result = new SortedDictionary<string, IReadOnlyList<MetricPoint>>(StringComparer.Ordinal);
        foreach (var (key, path) in EntryFiles(run, MlflowFileRun.MetricsFolder))
            result[key] = ParseMetricFile(key, path);
        return result;
    }

    /// <summary>One metric's history; empty when it was never logged.</summary>
    public IReadOnlyList<MetricPoint> ReadMetricHistory(string runId, string key)
    {
        MlflowNames.ValidateKey("metric", key);
        var path = Path.Combine(RequireRun(runId).Directory, MlflowFileRun.MetricsFolder, key.Replace('/', Path.DirectorySeparatorChar));
        return File.Exists(path) ? ParseMetricFile(key, path) : [];
    }

    /// <summary>Each metric's latest value, as MLflow picks it: the max by (step, timestamp, value).</summary>
    public IReadOnlyDictionary<string, double> ReadLatestMetrics(string runId) => ReadLatestMetrics(RequireRun(runId));

    /// <summary>The same for a run already found (no second scan of the store).</summary>
    public IReadOnlyDictionary<string, double> ReadLatestMetrics(RunRecord run) =>
        ReadMetricHistories(run).Where(kv => kv.Value.Count > 0).ToDictionary(
            kv => kv.Key,
            kv => kv.Value.OrderBy(p => p.Step).ThenBy(p => p.TimestampMs).ThenBy(p => p.Value).Last().Value,
            StringComparer.Ordinal);

    private RunRecord RequireRun(string runId) =>
        FindRun(runId) ?? throw new KeyNotFoundException($"Run '{runId}' not found under '{RootDirectory}'.");

    private static IEnumerable<RunRecord> ReadRuns(ExperimentRecord experiment)
    {
        foreach (var dir in Directory.EnumerateDirectories(experiment.Directory))
        {
            if (ReservedExperimentFolders.Contains(Path.GetFileName(dir))) continue;
            if (ReadRun(dir, experiment.ExperimentId) is { } run) yield return run;
        }
    }

    private static RunRecord? ReadRun(string dir, string experimentId)
    {
        var meta = MetaYaml.TryRead(Path.Combine(dir, MlflowFileStore.MetaFileName));
        if (meta is null || meta.GetValueOrDefault("experiment_id") != experimentId) return null;
        var runId = meta.GetValueOrDefault("run_id") ?? meta.GetValueOrDefault("run_uuid");
        if (runId is null) return null;
        var status = MlflowFileStore.ParseLong(meta.GetValueOrDefault("status")) is { } code && Enum.IsDefined((RunStatus)code)
            ? (RunStatus)code : RunStatus.Running; // MLflow reads a missing status as RUNNING
        var runName = meta.GetValueOrDefault("run_name");
        if (string.IsNullOrEmpty(runName))
        {
            // Older stores keep the name only in the tag (FileStore._get_run_from_info falls back to it).
            var tagPath = Path.Combine(dir, MlflowFileRun.TagsFolder, MlflowTags.RunName);
            runName = File.Exists(tagPath) ? File.ReadAllText(tagPath, StoreFiles.Utf8) : "";
        }
        return new RunRecord(
            runId, experimentId, runName, status,
            MlflowFileStore.ParseLong(meta.GetValueOrDefault("start_time")) ?? 0,
            MlflowFileStore.ParseLong(meta.GetValueOrDefault("end_time")),
            meta.GetValueOrDefault("artifact_uri") ?? "",
            meta.GetValueOrDefault("lifecycle_stage") ?? "active",
            meta.GetValueOrDefault("user_id") ?? "",
            dir);
    }

    private static SortedDictionary<string, string> ReadEntries(RunRecord run, string folder)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, path) in EntryFiles(run, folder))
            result[key] = File.ReadAllText(path, StoreFiles.Utf8);
        return result;
    }

    /// <summary>All files under a run sub-folder, keyed by their '/'-joined relative path (the MLflow key).</summary>
    internal static IEnumerable<(string Key, string Path)> EntryFiles(RunRecord run, string folder)
    {
        var root = Path.Combine(run.Directory, folder);
        if (!Directory.Exists(root)) yield break;
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
            yield return (Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/'), file);
    }

    private static List<MetricPoint> ParseMetricFile(string key, string path) => ReadMetricLines(key, path, 0).Select(p => p.Point).ToList();

    /// <summary>
    /// The complete lines of a metric file from byte <paramref name="offset"/> on, each point with the offset just past its
    /// line; a last line still being written (no newline yet) is left for the next read.
    /// </summary>
    internal static List<(MetricPoint Point, long End)> ReadMetricLines(string key, string path, long offset)
    {
        var points = new List<(MetricPoint, long)>();
        byte[] bytes;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            if (stream.Length <= offset) return points;
            stream.Seek(offset, SeekOrigin.Begin);
            bytes = new byte[stream.Length - offset];
            stream.ReadExactly(bytes);
        }
        int start = 0;
        for (int newline; (newline = Array.IndexOf(bytes, (byte)'\n', start)) >= 0; start = newline + 1)
        {
            var line = StoreFiles.Utf8.GetString(bytes, start, newline - start).Trim();
            if (line.Length > 0) points.Add((ParseMetricLine(key, path, line), offset + newline + 1));
        }
        return points;
    }

    private static MetricPoint ParseMetricLine(string key, string path, string line)
    {
        var parts = line.Split(' ');
        if (parts.Length is not (2 or 3))
            throw new FormatException($"Metric '{key}' is malformed: a line has {parts.Length} fields, expected 2 or 3 ({path}).");
        return new MetricPoint(
            long.Parse(parts[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture),
            ParsePythonFloat(parts[1]),
            parts.Length == 3 ? long.Parse(parts[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture) : 0);
    }

    /// <summary>Python's float(): accepts "nan", "inf", "-inf", "infinity" in any case, as well as ordinary numbers.</summary>
    internal static double ParsePythonFloat(string text)
    {
        var t = text.Trim().ToLowerInvariant();
        var unsigned = t.TrimStart('+', '-');
        bool negative = t.StartsWith('-');
        if (unsigned is "nan") return double.NaN;
        if (unsigned is "inf" or "infinity") return negative ? double.NegativeInfinity : double.PositiveInfinity;
        return double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
    }
}
