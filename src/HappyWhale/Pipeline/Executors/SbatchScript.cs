using System.Text;
using HappyWhale.Experiments;

namespace HappyWhale.Pipeline.Executors;

/// <summary>
/// The batch script of one job (or one job array): #SBATCH lines from the experiment's slurm
/// section, the setup lines, then `exec` of the same happywhale program in the repository, so
/// scancel's signals reach the program itself.
/// </summary>
public static class SbatchScript
{
    /// <summary>The stages that run the model, and so get slurm.gres.</summary>
    static readonly string[] ModelStages = [StageNames.Train, StageNames.Evaluate, StageNames.PseudoLabel];

    /// <param name="stage">the stage the job computes (decides whether slurm.gres applies); null for the report job</param>
    /// <param name="log">the job's log file, with Slurm's %j (or %A_%a for arrays)</param>
    /// <param name="command">the program and its arguments; an argument may refer to $TASK_STAGE (arrays)</param>
    /// <param name="arrayStages">for a job array: the stage index each task runs (task i runs arrayStages[i])</param>
    public static string Text(SlurmSpec slurm, string? stage, string jobName, string log, string repoRoot, IReadOnlyList<string> command,
        IReadOnlyList<int>? arrayStages = null)
    {
        var s = new StringBuilder();
        s.AppendLine("#!/bin/bash");
        s.AppendLine("# Written by happywhale (slurm executor); see docs/slurm.md.");
        void Option(string name, string? value, string key)
        {
            if (string.IsNullOrWhiteSpace(value)) return;
            s.AppendLine($"#SBATCH --{name}={Checked(value, key)}");
        }
        Option("job-name", jobName, "job name");
        Option("output", log, "log path");
        Option("partition", slurm.Partition, "slurm.partition");
        Option("account", slurm.Account, "slurm.account");
        if (stage is not null && ModelStages.Contains(stage)) Option("gres", slurm.Gres, "slurm.gres");
        Option("cpus-per-task", slurm.Cpus > 0 ? slurm.Cpus.ToString(System.Globalization.CultureInfo.InvariantCulture) : null, "slurm.cpus");
        Option("mem", slurm.Mem, "slurm.mem");
        Option("time", slurm.Time, "slurm.time");
        // A job whose input failed is cancelled at once instead of pending forever.
        s.AppendLine("#SBATCH --kill-on-invalid-dep=yes");
        if (arrayStages is { Count: > 0 })
            s.AppendLine($"#SBATCH --array=0-{arrayStages.Count - 1}" + (slurm.ArrayParallelism > 0 ? $"%{slurm.ArrayParallelism}" : ""));
        foreach (var line in slurm.ExtraSbatch)
        {
            string option = Checked(line, "slurm.extra_sbatch").Trim();
            if (!option.StartsWith('-'))
                throw new UserException($"slurm.extra_sbatch entry '{line}' is not an sbatch option; write it as on the command line, e.g. --qos=normal.");
            s.AppendLine("#SBATCH " + option);
        }
        s.AppendLine("set -eo pipefail");
        s.AppendLine("cd " + Quote(repoRoot));
        foreach (var line in slurm.Setup) s.AppendLine(Checked(line, "slurm.setup"));
        // The allocator and OpenMP settings build.sh makes for local runs (build/runtime_env.sh: glibc's malloc made training
        // 2-7x slower; libgomp's long spin lost 70% of the speed to one busy neighbour on a shared node).
        s.AppendLine("export GLIBC_TUNABLES=\"${GLIBC_TUNABLES:-glibc.malloc.hugetlb=1}\"");
        s.AppendLine("export GOMP_SPINCOUNT=\"${GOMP_SPINCOUNT:-2000}\"");
        if (arrayStages is { Count: > 0 })
        {
            s.AppendLine("STAGES=(" + string.Join(' ', arrayStages) + ")");
            s.AppendLine("TASK_STAGE=${STAGES[$SLURM_ARRAY_TASK_ID]}");
        }
        s.AppendLine("exec " + string.Join(' ', command.Select(a => a == "$TASK_STAGE" ? "\"$TASK_STAGE\"" : Quote(a))));
        return s.ToString();
    }

    /// <summary>A value that goes into the script as one line: no line breaks, which would smuggle in other commands.</summary>
    static string Checked(string value, string key) =>
        value.IndexOfAny(['\n', '\r', '\0']) < 0 ? value
            : throw new UserException($"{key} '{value.ReplaceLineEndings(" ")}' holds a line break; give one option or line per list entry.");

    /// <summary>Single-quotes a word for bash.</summary>
    public static string Quote(string word) => "'" + word.Replace("'", "'\\''") + "'";
}
