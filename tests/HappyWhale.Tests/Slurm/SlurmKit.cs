using System.Diagnostics;
using System.Text;
using HappyWhale.Tests.EndToEnd;

namespace HappyWhale.Tests.Slurm;

/// <summary>
/// A fact that needs a Slurm cluster answering on this machine (`../shared/slurm/slurm-local.sh start`
/// gives a single-node one). Skipped when none answers, unless HAPPYWHALE_REQUIRE_SLURM=1 (as .ci/run
/// sets after starting it): then a missing cluster fails the test instead of hiding it.
/// </summary>
public sealed class SlurmFactAttribute : FactAttribute
{
    public const string Require = "HAPPYWHALE_REQUIRE_SLURM";

    public SlurmFactAttribute()
    {
        if (Environment.GetEnvironmentVariable(Require) != "1" && SlurmKit.Missing.Value is { } reason) Skip = reason;
    }
}

/// <summary>The Slurm tests run one after another: they share the cluster's two cores.</summary>
[CollectionDefinition("slurm", DisableParallelization = true)]
public sealed class SlurmCollection;

/// <summary>Slurm's own commands, as an administrator would check a run: sacct, scancel.</summary>
public static class SlurmKit
{
    public static readonly Lazy<string?> Missing = new(() =>
    {
        try
        {
            var (code, output) = Run("sinfo", "-h", "-o", "%t");
            return code == 0 && output.Split('\n').Any(s => s.Trim() is "idle" or "mix" or "alloc" or "idle*" or "mix*")
                ? null
                : "no Slurm node answers here (start one with ../shared/slurm/slurm-local.sh start)";
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or TimeoutException)
        {
            return "the Slurm client commands are not installed (../shared/slurm/slurm-local.sh start installs a single-node Slurm)";
        }
    });

    /// <summary>
    /// sacct's one line per job (-X), id -> (name, state): the jobs <paramref name="ids"/>, and every job
    /// submitted from under <paramref name="folder"/> since <paramref name="since"/>.
    /// </summary>
    public static IReadOnlyDictionary<string, (string Name, string State)> Jobs(IReadOnlyCollection<string> ids, string folder, DateTime since, int atLeast = 0)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var jobs = new Dictionary<string, (string, string)>();
            // With a state list, -S also finds jobs that never became eligible (cancelled while waiting on a dependency).
            var selections = new List<string[]> { new[] { "-S", since.AddMinutes(-1).ToString("yyyy-MM-ddTHH:mm:ss"), "-E", "now",
                "-s", "PD,R,CD,CA,F,TO,OOM,NF,PR,BF,DL,RQ,S" } };
            if (ids.Count > 0) selections.Add(["-j", string.Join(',', ids.Select(i => i.Split('_')[0]).Distinct())]);
            foreach (var selection in selections)
            {
                var (code, output) = Run("sacct", ["-X", "-n", "-P", .. selection, "-o", "JobID,JobName%60,State,WorkDir%400"]);
                Assert.True(code == 0, "sacct failed: " + output);
                foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                    if (line.Split('|') is [var id, var name, var state, var dir] && dir.StartsWith(folder, StringComparison.Ordinal))
                        jobs[id] = (name, state.Split(' ')[0]);
            }
            // slurmdbd receives a job's end a moment after the controller: wait until every job has its final state.
            bool settled = ids.All(jobs.ContainsKey) && jobs.Count >= atLeast && jobs.Values.All(j => j.Item2 is not ("PENDING" or "RUNNING" or "COMPLETING"));
            if (settled || DateTime.UtcNow > deadline) return jobs;
            Thread.Sleep(1000);
        }
    }

    public static void Scancel(string id)
    {
        var (code, output) = Run("scancel", id);
        Assert.True(code == 0, $"scancel {id}: {output}");
    }

    public static (int Code, string Output) Run(string command, params string[] args)
    {
        var info = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60))) { process.Kill(true); throw new TimeoutException($"{command} did not answer in 60 s"); }
        return (process.ExitCode, output.Result + error.Result);
    }
}

/// <summary>The happywhale program running in the background, its output collected, with a time limit.</summary>
public sealed class BackgroundCli : IDisposable
{
    readonly Process _process;
    readonly StringBuilder _output = new();

    public BackgroundCli(TestRepository repo, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = repo.Root, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "HappyWhale.Cli.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["NO_COLOR"] = "1";
        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public bool HasExited => _process.HasExited;

    public string Output { get { lock (_output) return _output.ToString(); } }

    public (int ExitCode, string Output) Wait(TimeSpan limit)
    {
        if (!_process.WaitForExit(limit))
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"happywhale did not finish in {limit.TotalMinutes:F0} min; output so far:\n{Output}");
        }
        _process.WaitForExit();
        return (_process.ExitCode, Output);
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}
