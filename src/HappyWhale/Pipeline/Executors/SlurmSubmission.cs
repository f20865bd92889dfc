using System.Text.Json;

namespace HappyWhale.Pipeline.Executors;

/// <summary>One submitted job (or one task of a job array) and the planned stage it computes.</summary>
/// <param name="Id">Slurm's job id, or arrayid_task</param>
/// <param name="StageIndex">index into the round's stages.json; null for the report job of a detached submission</param>
public sealed record SubmittedJob(int Round, string Id, string Label, string Stage, string Key, int? StageIndex, string Log, IReadOnlyList<string> UsedBy)
{
    public string ShortKey => Key.Length >= 12 ? Key[..12] : Key;
}

/// <summary>A round's plan as the jobs read it: the repository and the stages, by index.</summary>
public sealed record RoundPlan(string RepoRoot, IReadOnlyList<PlannedStage> Stages);

/// <summary>
/// artifacts/slurm/&lt;kind&gt;-&lt;name&gt;/&lt;time&gt;/: what one submitting command sent to Slurm, so
/// `happywhale status` and `cancel` find the jobs later. Per round (the first submission, then each
/// --retry): stages.json (written before any job can start, never changed), the sbatch scripts,
/// jobs.json (the job ids) and logs/ with one log per job.
/// </summary>
public sealed class SlurmSubmission
{
    public const string FolderName = "slurm", StagesFile = "stages.json", JobsFile = "jobs.json", CancelledFile = "cancelled";
    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    SlurmSubmission(string folder) => Folder = folder;

    public string Folder { get; }

    /// <summary>e.g. ablation-seed_tricks, exp-quickstart, regression.</summary>
    public static string Label(string kind, string name) => string.Concat($"{kind}-{name}".Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));

    public static SlurmSubmission Create(string artifactsRoot, string kind, string name)
    {
        string parent = Path.Combine(artifactsRoot, FolderName, Label(kind, name));
        string stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss-fff");
        string folder = Path.Combine(parent, stamp);
        for (int n = 2; Directory.Exists(folder); n++) folder = Path.Combine(parent, $"{stamp}-{n}");
        Directory.CreateDirectory(folder);
        return new SlurmSubmission(folder);
    }

    /// <summary>The latest submission of that kind and name; with kind null, the latest of any.</summary>
    public static SlurmSubmission? Latest(string artifactsRoot, string? kind, string? name)
    {
        string root = Path.Combine(artifactsRoot, FolderName);
        if (!Directory.Exists(root)) return null;
        var parents = kind is null ? Directory.GetDirectories(root) : [Path.Combine(root, Label(kind, name ?? ""))];
        return parents.Where(Directory.Exists)
            .SelectMany(Directory.GetDirectories)
            .OrderBy(d => Path.GetFileName(d), StringComparer.Ordinal)
            .Select(d => new SlurmSubmission(d))
            .LastOrDefault();
    }

    /// <summary>Removes a submission none of whose jobs stayed queued (and its kind-name folder when that is left empty).</summary>
    public void Delete()
    {
        Directory.Delete(Folder, recursive: true);
        string parent = Path.GetDirectoryName(Folder)!;
        if (!Directory.EnumerateFileSystemEntries(parent).Any()) Directory.Delete(parent);
    }

    public string RoundFolder(int round) => Path.Combine(Folder, $"round-{round}");

    public string StagesPath(int round) => Path.Combine(RoundFolder(round), StagesFile);

    public string WriteStages(int round, RoundPlan plan)
    {
        Directory.CreateDirectory(Path.Combine(RoundFolder(round), "logs"));
        AtomicFile.Write(StagesPath(round), JsonSerializer.Serialize(plan, Json));
        return StagesPath(round);
    }

    /// <summary>Where the job of stage <paramref name="index"/> records the device it ran on (next to the round's stages.json).</summary>
    public static string DeviceFile(string stagesPath, int index)
    {
        string folder = Path.Combine(Path.GetDirectoryName(stagesPath)!, "devices");
        Directory.CreateDirectory(folder);
        return Path.Combine(folder, $"{index}.txt");
    }

    public static RoundPlan ReadStages(string path)
    {
        if (!File.Exists(path)) throw new UserException($"no stage plan at {path}: the submission folder was removed or is not on a filesystem this node sees.");
        return JsonSerializer.Deserialize<RoundPlan>(File.ReadAllText(path), Json)
            ?? throw new InvalidDataException($"{path} holds no stage plan");
    }

    public void WriteJobs(int round, IReadOnlyList<SubmittedJob> jobs) =>
        AtomicFile.Write(Path.Combine(RoundFolder(round), JobsFile), JsonSerializer.Serialize(jobs, Json));

    /// <summary>Every job of every round, in submission order.</summary>
    public IReadOnlyList<SubmittedJob> Jobs() =>
        Directory.GetDirectories(Folder, "round-*")
            .Select(d => (Dir: d, Round: int.TryParse(Path.GetFileName(d)["round-".Length..], out int r) ? r : 0))
            .OrderBy(d => d.Round)
            .Select(d => Path.Combine(d.Dir, JobsFile))
            .Where(File.Exists)
            .SelectMany(f => JsonSerializer.Deserialize<List<SubmittedJob>>(File.ReadAllText(f), Json) ?? [])
            .ToList();

    /// <summary>Set by `happywhale cancel`: a waiting command does not resubmit what was cancelled on purpose.</summary>
    public bool Cancelled => File.Exists(Path.Combine(Folder, CancelledFile));

    public void MarkCancelled() => File.WriteAllText(Path.Combine(Folder, CancelledFile), DateTime.UtcNow.ToString("O") + "\n");
}
