using System.Globalization;

namespace HappyWhale.Tracking;

/// <summary>
/// Records runs in MLflow 2.x's FileStore layout so `mlflow ui --backend-store-uri &lt;root&gt;` reads them.
/// Followed: mlflow/mlflow mlflow/store/tracking/file_store.py (FileStore.__init__, _create_experiment_with_id,
/// create_run, _log_run_metric, _log_run_param, _set_run_tag, _overwrite_run_info) and
/// mlflow/utils/file_utils.py (write_yaml, path_to_local_file_uri).
/// <code>
/// root/
///   .trash/                      created with the store, as MLflow does
///   0/meta.yaml                  "Default" experiment, created when the root does not exist yet
///   &lt;id&gt;/meta.yaml               artifact_location, creation_time, experiment_id, last_update_time, lifecycle_stage, name
///   &lt;id&gt;/&lt;run_uuid&gt;/meta.yaml    see MlflowFileRun
///   &lt;id&gt;/&lt;run_uuid&gt;/metrics|params|tags|artifacts/
/// </code>
/// </summary>
public sealed class MlflowFileStore
{
    public const string DefaultExperimentId = "0";
    public const string DefaultExperimentName = "Default";
    public const string TrashFolderName = ".trash";
    public const string MetaFileName = "meta.yaml";
    // MLflow skips these when it lists experiments (_get_active_experiments): the trash and the model registry.
    private static readonly string[] NonExperimentFolders = [TrashFolderName, "models"];

    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(60);

    public string RootDirectory { get; }

    /// <summary>Opens (and if needed creates) the store at <paramref name="rootDirectory"/>.</summary>
    public MlflowFileStore(string rootDirectory)
    {
        RootDirectory = Path.GetFullPath(rootDirectory);
        if (!Directory.Exists(RootDirectory))
            CreateDefaultExperiment();
        // MLflow creates the trash folder whenever it opens a store.
        Directory.CreateDirectory(Path.Combine(RootDirectory, TrashFolderName));
    }

    /// <summary>Creates the experiment if needed and starts a RUNNING run in it (<paramref name="runId"/>: 32 hex digits, default a new one).</summary>
    public MlflowFileRun StartRun(string experimentName, string runName, IReadOnlyDictionary<string, string> tags, string? parentRunId = null,
        string? runId = null)
    {
        MlflowNames.ValidateStartRun(experimentName, runName, tags, parentRunId);

        var allTags = ResolveTags(runName, tags, parentRunId);
        var experiment = GetOrCreateExperiment(experimentName);
        return MlflowFileRun.Create(experiment.Directory, experiment.ExperimentId, experiment.ArtifactLocation, runName, allTags,
            runId ?? Guid.NewGuid().ToString("N"));
    }

    /// <summary>
    /// Default context tags first, caller tags over them (MLflow's resolve_tags order), then run name and parent.
    /// MLflow's create_run rejects an mlflow.runName tag that disagrees with the run name; so do we.
    /// </summary>
    private static Dictionary<string, string> ResolveTags(string runName, IReadOnlyDictionary<string, string> tags, string? parentRunId)
    {
        var all = MlflowTags.DefaultContext();
        foreach (var (key, value) in tags)
        {
            MlflowNames.ValidateKey("tag", key);
            MlflowNames.ValidateValue("Tag", key, value, MlflowNames.MaxTagValueLength);
            all[key] = value;
        }
        if (all.TryGetValue(MlflowTags.RunName, out var tagged) && tagged != runName)
            throw new ArgumentException($"Both the run name '{runName}' and a '{MlflowTags.RunName}' tag '{tagged}' are given, with different values.");
        all[MlflowTags.RunName] = runName;
        if (parentRunId is not null)
        {
            if (all.TryGetValue(MlflowTags.ParentRunId, out var parent) && parent != parentRunId)
                throw new ArgumentException($"Both parentRunId '{parentRunId}' and a '{MlflowTags.ParentRunId}' tag '{parent}' are given, with different values.");
            all[MlflowTags.ParentRunId] = parentRunId;
        }
        return all;
    }

    /// <summary>Finds the active experiment with this name, or creates it with the next free numeric id.</summary>
    public ExperimentRecord GetOrCreateExperiment(string name)
    {
        MlflowNames.ValidateExperimentName(name);
        var found = FindActive(name);
        if (found is not null) return found;

        // Re-check under the lock: another process may have created it since the lock-free look.
        using var _ = StoreLock.Acquire(RootDirectory, LockTimeout);
        found = FindActive(name);
        if (found is not null) return found;
        if (ExperimentScanner.List(Path.Combine(RootDirectory, TrashFolderName)).Any(e => e.Name == name))
            throw new InvalidOperationException(
                $"Experiment '{name}' already exists in deleted state (in {TrashFolderName}). Restore it, or permanently delete it from the trash, to use this name again.");
        return CreateExperiment(name);
    }

    private ExperimentRecord? FindActive(string name) => ExperimentScanner.ListActive(RootDirectory).FirstOrDefault(e => e.Name == name);

    private void CreateDefaultExperiment()
    {
        using var _ = StoreLock.Acquire(RootDirectory, LockTimeout);
        Directory.CreateDirectory(RootDirectory);
        var dir = Path.Combine(RootDirectory, DefaultExperimentId);
        if (StoreFiles.TryCreateDirectoryExclusive(dir) || !File.Exists(Path.Combine(dir, MetaFileName)))
            WriteExperimentMeta(dir, DefaultExperimentId, DefaultExperimentName);
    }

    /// <summary>
    /// Allocates max(existing numeric id, in the root and the trash) + 1 with an exclusive mkdir, retrying on a clash.
    /// MLflow 2.x itself picks a random 18-digit id (name_utils._generate_unique_integer_id); any numeric
    /// folder name reads back the same, and small sequential ids are easier to type.
    /// </summary>
    private ExperimentRecord CreateExperiment(string name)
    {
        long next = Math.Max(MaxNumericId(RootDirectory), MaxNumericId(Path.Combine(RootDirectory, TrashFolderName))) + 1;
        while (true)
        {
            var id = next.ToString(CultureInfo.InvariantCulture);
            var dir = Path.Combine(RootDirectory, id);
            if (StoreFiles.TryCreateDirectoryExclusive(dir))
                return WriteExperimentMeta(dir, id, name);
            next++;
        }
    }

    private static long MaxNumericId(string parent)
    {
        if (!Directory.Exists(parent)) return 0;
        long max = 0;
        foreach (var dir in Directory.EnumerateDirectories(parent))
            if (long.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                max = Math.Max(max, id);
        return max;
    }

    /// <summary>
    /// meta.yaml as _create_experiment_with_id writes it: dict(Experiment) without tags, keys sorted;
    /// artifact_location = append_to_uri_path(path_to_local_file_uri(root), id).
    /// </summary>
    private ExperimentRecord WriteExperimentMeta(string dir, string id, string name)
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var artifactLocation = StoreFiles.ToFileUri(RootDirectory) + "/" + id;
        StoreFiles.WriteAtomic(Path.Combine(dir, MetaFileName), PyYaml.Dump(new Dictionary<string, object?>
        {
            ["artifact_location"] = artifactLocation,
            ["creation_time"] = now,
            ["experiment_id"] = id,
            ["last_update_time"] = now,
            ["lifecycle_stage"] = "active",
            ["name"] = name,
        }));
        return new ExperimentRecord(id, name, artifactLocation, "active", now, now, dir);
    }

    /// <summary>Experiment folders under a parent, read the way MLflow's search_experiments does.</summary>
    internal static class ExperimentScanner
    {
        /// <summary>Active experiments in id order (numeric ids: shorter first).</summary>
        public static IReadOnlyList<ExperimentRecord> ListActive(string parent) =>
            List(parent).Where(e => e.LifecycleStage == "active")
                .OrderBy(e => e.ExperimentId.Length).ThenBy(e => e.ExperimentId, StringComparer.Ordinal).ToList();

        public static IEnumerable<ExperimentRecord> List(string parent)
        {
            if (!Directory.Exists(parent)) yield break;
            foreach (var dir in Directory.EnumerateDirectories(parent))
            {
                var folder = Path.GetFileName(dir);
                if (NonExperimentFolders.Contains(folder)) continue;
                var meta = MetaYaml.TryRead(Path.Combine(dir, MetaFileName));
                if (meta is null) continue; // malformed or still being created
                // MLflow ignores an experiment whose recorded id differs from its folder name.
                if (meta.GetValueOrDefault("experiment_id") != folder) continue;
                yield return new ExperimentRecord(
                    folder,
                    meta.GetValueOrDefault("name") ?? "",
                    meta.GetValueOrDefault("artifact_location") ?? "",
                    meta.GetValueOrDefault("lifecycle_stage") ?? "active",
                    ParseLong(meta.GetValueOrDefault("creation_time")),
                    ParseLong(meta.GetValueOrDefault("last_update_time")),
                    dir);
            }
        }
    }

    internal static long? ParseLong(string? text) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : null;
}

/// <summary>An experiment folder as read from its meta.yaml.</summary>
public sealed record ExperimentRecord(
    string ExperimentId, string Name, string ArtifactLocation, string LifecycleStage,
    long? CreationTime, long? LastUpdateTime, string Directory);
