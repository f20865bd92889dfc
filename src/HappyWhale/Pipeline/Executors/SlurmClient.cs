using System.ComponentModel;
using System.Diagnostics;

namespace HappyWhale.Pipeline.Executors;

/// <summary>A job's state as Slurm reports it (squeue while the controller remembers it, sacct after).</summary>
/// <param name="Id">the job id, or arrayid_task for one task of a job array</param>
/// <param name="State">PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, OUT_OF_MEMORY, ...</param>
/// <param name="Reason">why it waits or ended (Dependency, Resources, NonZeroExitCode, DependencyNeverSatisfied, ...)</param>
public sealed record JobState(string Id, string State, string Reason, string? ExitCode = null)
{
    public static readonly JobState Unknown = new("", "UNKNOWN", "not known to squeue or sacct yet");

    public bool IsCompleted => State == "COMPLETED";
    public bool IsTerminal => State is "COMPLETED" or "FAILED" or "CANCELLED" or "TIMEOUT" or "OUT_OF_MEMORY" or "NODE_FAIL"
        or "BOOT_FAIL" or "DEADLINE" or "PREEMPTED" or "REVOKED" or "SPECIAL_EXIT";
    public bool IsFailed => IsTerminal && !IsCompleted;
    public bool IsRunning => State is "RUNNING" or "COMPLETING" or "CONFIGURING" or "STAGE_OUT" or "SIGNALING";

    /// <summary>Pending on an input that failed: Slurm would keep it queued forever.</summary>
    public bool IsOrphaned => State == "PENDING" && Reason == "DependencyNeverSatisfied";
}

/// <summary>
/// The Slurm client commands, run as a user runs them: sbatch, squeue, sacct, scancel, scontrol.
/// Every call has a time limit, so an unreachable controller cannot hang a command.
/// </summary>
public sealed class SlurmClient
{
    static readonly TimeSpan CallLimit = TimeSpan.FromMinutes(2);

    /// <summary>Stops with a clear message when the Slurm client commands are not installed here.</summary>
    public static SlurmClient Require()
    {
        var missing = new[] { "sbatch", "squeue", "scancel" }.Where(c => FindOnPath(c) is null).ToList();
        if (missing.Count > 0)
            throw new UserException($"the slurm executor needs the Slurm client commands; {string.Join(", ", missing)} not found on PATH. " +
                                    "Run on a cluster's login node (or `module load slurm`), or use --executor=local (docs/slurm.md).");
        return new SlurmClient();
    }

    static string? FindOnPath(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, command)).FirstOrDefault(File.Exists);

    /// <summary>sbatch SCRIPT with afterok on <paramref name="afterOk"/>; the new job id (arrays: the array's id).</summary>
    /// <param name="what">the job in words, for the message when sbatch refuses it</param>
    public string Submit(string script, IReadOnlyList<string> afterOk, string workingDirectory, string what)
    {
        var args = new List<string> { "--parsable" };
        if (afterOk.Count > 0) args.Add("--dependency=afterok:" + string.Join(':', afterOk));
        args.Add(script);
        var (code, output, error) = Run("sbatch", args, workingDirectory);
        string id = output.Trim().Split(';')[0];
        if (code != 0 || id.Length == 0 || !id.All(char.IsAsciiDigit))
            throw new UserException($"sbatch refused the job for {what}: {FirstLines(error + output)}. " +
                                    "Check the slurm.* settings (partition, account, gres, mem, time, extra_sbatch); nothing was left queued.");
        return id;
    }

    /// <summary>
    /// The state of each job or array task in <paramref name="ids"/>. squeue answers for jobs the
    /// controller still remembers; sacct (when accounting is on) for older ones. Jobs neither knows
    /// yet are left out.
    /// </summary>
    public IReadOnlyDictionary<string, JobState> States(IReadOnlyCollection<string> ids)
    {
        var states = new Dictionary<string, JobState>(StringComparer.Ordinal);
        if (ids.Count == 0) return states;
        var jobIds = ids.Select(JobIdOf).Distinct().ToList();
        var (code, output, _) = Run("squeue", ["-h", "-r", "-t", "all", "-j", string.Join(',', jobIds), "-o", "%i|%T|%r"]);
        if (code == 0)
            foreach (var line in Lines(output))
                if (line.Split('|') is [var id, var state, var reason]) states[id] = new JobState(id, state, reason);
        var missing = ids.Where(id => !states.ContainsKey(id)).Select(JobIdOf).Distinct().ToList();
        if (missing.Count > 0)
            foreach (var (id, s) in Accounting(missing)) states.TryAdd(id, s);
        return states;
    }

    /// <summary>sacct's record of the jobs (empty when accounting is off).</summary>
    public IReadOnlyDictionary<string, JobState> Accounting(IReadOnlyCollection<string> jobIds)
    {
        var states = new Dictionary<string, JobState>(StringComparer.Ordinal);
        if (jobIds.Count == 0 || FindOnPath("sacct") is null) return states;
        var (code, output, _) = Run("sacct", ["-X", "-n", "-P", "-j", string.Join(',', jobIds.Select(JobIdOf).Distinct()), "-o", "JobID,State,ExitCode,Reason"]);
        if (code != 0) return states;
        foreach (var line in Lines(output))
            if (line.Split('|') is [var id, var state, var exit, var reason])
                // "CANCELLED by 0" -> CANCELLED
                states[id] = new JobState(id, state.Split(' ')[0], reason, exit);
        return states;
    }

    /// <summary>The exit code (e.g. 1:0, 0:15 for a signal) of a finished job, or null when Slurm no longer says.</summary>
    public string? ExitCode(string id)
    {
        var (code, output, _) = Run("scontrol", ["show", "job", "-o", id]);
        if (code == 0)
            foreach (var field in output.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                if (field.StartsWith("ExitCode=", StringComparison.Ordinal)) return field["ExitCode=".Length..];
        return Accounting([id]).TryGetValue(id, out var s) ? s.ExitCode : null;
    }

    public void Cancel(IReadOnlyCollection<string> ids)
    {
        if (ids.Count == 0) return;
        var (code, output, error) = Run("scancel", ids.ToList());
        if (code != 0) throw new UserException($"scancel {string.Join(' ', ids)} failed: {FirstLines(error + output)}");
    }

    /// <summary>123_4 -> 123; 123 -> 123.</summary>
    public static string JobIdOf(string id) => id.Split('_')[0];

    static IEnumerable<string> Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    static string FirstLines(string text) => string.Join(" ", Lines(text).Take(3));

    static (int Code, string Output, string Error) Run(string command, IReadOnlyList<string> args, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null) info.WorkingDirectory = workingDirectory;
        foreach (var a in args) info.ArgumentList.Add(a);
        try
        {
            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(CallLimit))
            {
                process.Kill(entireProcessTree: true);
                throw new UserException($"{command} did not answer in {CallLimit.TotalSeconds:F0} s: is the Slurm controller reachable (`sinfo`)?");
            }
            return (process.ExitCode, output.Result, error.Result);
        }
        catch (Win32Exception e)
        {
            throw new UserException($"cannot run {command}: {e.Message}. The slurm executor needs the Slurm client commands on PATH.", e);
        }
    }
}
