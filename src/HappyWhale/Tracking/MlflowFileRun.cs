using System.Globalization;
using System.Text;

namespace HappyWhale.Tracking;

/// <summary>
/// One run folder of the MLflow file store: &lt;experiment&gt;/&lt;run_uuid&gt;/ with meta.yaml, metrics/, params/, tags/, artifacts/.
/// Followed: mlflow/store/tracking/file_store.py create_run, _make_persisted_run_info_dict, _log_run_metric,
/// _log_run_param/_validate_new_param_value, _set_run_tag, update_run_info/_overwrite_run_info;
/// mlflow/store/artifact/local_artifact_repo.py log_artifact.
/// </summary>
public sealed class MlflowFileRun
{
    public const string MetricsFolder = "metrics";
    public const string ParamsFolder = "params";
    public const string TagsFolder = "tags";
    public const string ArtifactsFolder = "artifacts";

    private readonly object _gate = new();
    private readonly string _runDirectory;
    private readonly string _artifactUri;
    private readonly string _userId;
    private readonly long _startTime;
    private string _runName;
    private RunStatus _status = RunStatus.Running;
    private long? _endTime;

    public string RunId { get; }
    public string ExperimentId { get; }

    private MlflowFileRun(string runDirectory, string runId, string experimentId, string artifactUri, string runName, string userId, long startTime)
    {
        _runDirectory = runDirectory;
        RunId = runId;
        ExperimentId = experimentId;
        _artifactUri = artifactUri;
        _runName = runName;
        _userId = userId;
        _startTime = startTime;
    }

    /// <param name="runId">MLflow's run_uuid = uuid.uuid4().hex: 32 lowercase hex digits, also used as run_id.</param>
    internal static MlflowFileRun Create(string experimentDirectory, string experimentId, string experimentArtifactLocation,
        string runName, IReadOnlyDictionary<string, string> tags, string runId)
    {
        MlflowNames.ValidateRunId(runId);
        var runDirectory = Path.Combine(experimentDirectory, runId);
        // _get_artifact_dir: append_to_uri_path(experiment.artifact_location, run_uuid, "artifacts")
        var artifactUri = experimentArtifactLocation.TrimEnd('/') + "/" + runId + "/" + ArtifactsFolder;
        // TrackingServiceClient.create_run: user_id = tags.get("mlflow.user", "unknown")
        var userId = tags.TryGetValue(MlflowTags.User, out var user) ? user : "unknown";
        var run = new MlflowFileRun(runDirectory, runId, experimentId, artifactUri, runName, userId,
            DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

        Directory.CreateDirectory(runDirectory);
        // create_run persists deleted_time: None; later rewrites (_overwrite_run_info) leave it out.
        run.WriteMeta(includeDeletedTime: true);
        Directory.CreateDirectory(Path.Combine(runDirectory, MetricsFolder));
        Directory.CreateDirectory(Path.Combine(runDirectory, ParamsFolder));
        Directory.CreateDirectory(Path.Combine(runDirectory, ArtifactsFolder));
        foreach (var (key, value) in tags)
            run.WriteTag(key, value);
        return run;
    }

    /// <summary>An existing run folder, to change its status (a run found abandoned is ended KILLED); meta.yaml fields are kept.</summary>
    internal static MlflowFileRun Open(RunRecord run) =>
        new(run.Directory, run.RunId, run.ExperimentId, run.ArtifactUri, run.RunName, run.UserId, run.StartTime) { _status = run.Status, _endTime = run.EndTime };

    public void LogParams(IReadOnlyDictionary<string, string> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        lock (_gate)
        {
            // Check everything before writing anything, so a rejected batch leaves no partial record.
            foreach (var (key, value) in parameters)
            {
                MlflowNames.ValidateKey("parameter", key);
                MlflowNames.ValidateValue("Param", key, value, MlflowNames.MaxParamValueLength);
                var path = EntryPath(ParamsFolder, key);
                if (File.Exists(path))
                {
                    // Params are immutable in MLflow: the same value again is fine, a different one is an error.
                    var current = File.ReadAllText(path, StoreFiles.Utf8);
                    if (current != value)
                        throw new ArgumentException(
                            $"Changing param values is not allowed. Param with key='{key}' was already logged with value='{current}' for run ID='{RunId}'. Attempted logging new value '{value}'.");
                }
            }
            foreach (var (key, value) in parameters)
                WriteEntry(ParamsFolder, key, value);
        }
    }

    public void LogMetric(string key, double value, long step = 0, long? timestampMs = null)
    {
        long timestamp = MlflowNames.ValidateMetric(key, timestampMs);
        var path = EntryPath(MetricsFolder, key);
        // One line per value, "timestamp value step", value as Python's str(float) writes it.
        var line = string.Create(CultureInfo.InvariantCulture, $"{timestamp} {PythonFloat.Repr(value)} {step}\n");
        var bytes = StoreFiles.Utf8.GetBytes(line);
        lock (_gate)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            // A single append write, so concurrent writers interleave whole lines, never parts of them.
            using var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
            stream.Write(bytes);
        }
    }

    public void SetTag(string key, string value)
    {
        MlflowNames.ValidateKey("tag", key);
        MlflowNames.ValidateValue("Tag", key, value, MlflowNames.MaxTagValueLength);
        lock (_gate)
        {
            WriteTag(key, value);
            // FileStore.set_tag keeps meta.yaml's run_name in step with the mlflow.runName tag.
            if (key == MlflowTags.RunName && value.Length > 0 && value != _runName)
            {
                _runName = value;
                WriteMeta(includeDeletedTime: false);
            }
        }
    }

    public void LogArtifact(string localPath, string? artifactDir = null)
    {
        MlflowNames.ValidateArtifactPath(artifactDir);
        if (!_artifactUri.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
            throw new NotSupportedException($"The run's artifact location '{_artifactUri}' is not a local file: URI.");
        var target = StoreFiles.FromFileUri(_artifactUri);
        if (!string.IsNullOrEmpty(artifactDir))
            target = Path.Combine(target, artifactDir.Replace('/', Path.DirectorySeparatorChar));
        Directory.CreateDirectory(target);

        if (File.Exists(localPath))
            File.Copy(localPath, Path.Combine(target, Path.GetFileName(localPath)), overwrite: true);
        else if (Directory.Exists(localPath))
            // The MLflow client logs a directory under its own name inside the artifact path.
            CopyDirectory(localPath, Path.Combine(target, Path.GetFileName(Path.TrimEndingDirectorySeparator(localPath))));
        else
            throw new FileNotFoundException($"Artifact source '{localPath}' does not exist.", localPath);
    }

    public void End(RunStatus status)
    {
        if (!Enum.IsDefined(status)) throw new ArgumentOutOfRangeException(nameof(status), status, "Unknown run status.");
        lock (_gate)
        {
            _status = status;
            _endTime = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            WriteMeta(includeDeletedTime: false);
        }
    }

    /// <summary>
    /// The run meta.yaml of _make_persisted_run_info_dict: RunInfo fields plus the legacy ones MLflow still writes
    /// for old readers (tags: [], source_type: 4 = LOCAL, empty source_name/entry_point_name/source_version),
    /// status as the integer enum.
    /// </summary>
    private void WriteMeta(bool includeDeletedTime)
    {
        var fields = new Dictionary<string, object?>
        {
            ["artifact_uri"] = _artifactUri,
            ["end_time"] = _endTime,
            ["entry_point_name"] = "",
            ["experiment_id"] = ExperimentId,
            ["lifecycle_stage"] = "active",
            ["run_id"] = RunId,
            ["run_name"] = _runName,
            ["run_uuid"] = RunId,
            ["source_name"] = "",
            ["source_type"] = MlflowTags.SourceTypeLocalCode,
            ["source_version"] = "",
            ["start_time"] = _startTime,
            ["status"] = (int)_status,
            ["tags"] = PyYaml.EmptyList,
            ["user_id"] = _userId,
        };
        if (includeDeletedTime) fields["deleted_time"] = null;
        StoreFiles.WriteAtomic(Path.Combine(_runDirectory, MlflowFileStore.MetaFileName), PyYaml.Dump(fields));
    }

    private void WriteTag(string key, string value) => WriteEntry(TagsFolder, key, value);

    /// <summary>Param/tag file: the value as-is, no trailing newline (write_to). Keys with '/' become sub-folders.</summary>
    private void WriteEntry(string folder, string key, string value)
    {
        var path = EntryPath(folder, key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        StoreFiles.WriteAtomic(path, value, tempDirectory: _runDirectory);
    }

    private string EntryPath(string folder, string key) =>
        Path.Combine(_runDirectory, folder, key.Replace('/', Path.DirectorySeparatorChar));

    private static void CopyDirectory(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.EnumerateFiles(source))
            File.Copy(file, Path.Combine(destination, Path.GetFileName(file)), overwrite: true);
        foreach (var dir in Directory.EnumerateDirectories(source))
            CopyDirectory(dir, Path.Combine(destination, Path.GetFileName(dir)));
    }
}
