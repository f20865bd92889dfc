using System.Diagnostics;

namespace HappyWhale.Tests.EndToEnd;

/// <summary>
/// A throwaway repository: the real experiments/defaults.yaml plus the experiment files a test
/// writes, and its own artifacts/ folder, so end-to-end runs never touch the developer's cache.
/// </summary>
public sealed class TestRepository : IDisposable
{
    readonly TempFolder _folder = new();
    public string Root => _folder.Path;
    public string Experiments => Path.Combine(Root, "experiments");
    public string Cache => Path.Combine(Root, "artifacts", "cache");

    public TestRepository()
    {
        Directory.CreateDirectory(Experiments);
        File.Copy(Path.Combine(SourceRoot(), "experiments", "defaults.yaml"), Path.Combine(Experiments, "defaults.yaml"));
    }

    /// <summary>The checkout the tests were built from (holds experiments/defaults.yaml).</summary>
    public static string SourceRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "experiments", "defaults.yaml")) && File.Exists(Path.Combine(dir.FullName, "HappyWhale.sln")))
                return dir.FullName;
        throw new InvalidOperationException("cannot find the repository root above " + AppContext.BaseDirectory);
    }

    public void Write(string name, string yaml) => File.WriteAllText(Path.Combine(Experiments, name), yaml);

    /// <summary>Every file under artifacts/cache with its size, to prove a failed run changed nothing.</summary>
    public IReadOnlyList<string> CacheListing() =>
        !Directory.Exists(Cache) ? [] :
        Directory.EnumerateFileSystemEntries(Cache, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(Cache, p) + (File.Exists(p) ? ":" + new FileInfo(p).Length : "/"))
            .OrderBy(p => p, StringComparer.Ordinal).ToList();

    /// <summary>Starts the real program (HappyWhale.Cli.dll from the test output) in this repository, output discarded.</summary>
    public Process StartCli(params string[] args)
    {
        var info = CliStartInfo(args);
        info.RedirectStandardOutput = info.RedirectStandardError = false;
        info.StandardOutputEncoding = null;
        var process = Process.Start(info)!;
        return process;
    }

    /// <summary>The real program with <paramref name="args"/>; <paramref name="env"/> sets (or, with null, removes) variables.</summary>
    public ProcessStartInfo CliStartInfo(string[] args, IReadOnlyDictionary<string, string?>? env = null)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = Root, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "HappyWhale.Cli.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["NO_COLOR"] = "1";
        info.Environment["COLUMNS"] = "200";
        foreach (var (key, value) in env ?? new Dictionary<string, string?>())
            if (value is null) info.Environment.Remove(key); else info.Environment[key] = value;
        return info;
    }

    /// <summary>Runs the real program (HappyWhale.Cli.dll from the test output) in this repository.</summary>
    public (int ExitCode, string Output) RunCli(params string[] args) => RunCli(TimeSpan.FromMinutes(10), args, null);

    public (int ExitCode, string Output) RunCli(string[] args, IReadOnlyDictionary<string, string?>? env) => RunCli(TimeSpan.FromMinutes(10), args, env);

    /// <summary>As above; a run that outlives <paramref name="limit"/> is killed and fails the test (a hang must not block CI).</summary>
    public (int ExitCode, string Output) RunCli(TimeSpan limit, params string[] args) => RunCli(limit, args, null);

    public (int ExitCode, string Output) RunCli(TimeSpan limit, string[] args, IReadOnlyDictionary<string, string?>? env)
    {
        using var process = Process.Start(CliStartInfo(args, env))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(limit))
        {
            process.Kill(true);
            throw new TimeoutException($"happywhale {string.Join(' ', args)} did not finish in {limit.TotalSeconds:F0} s (killed); output so far:\n{stdout.Result}{stderr.Result}");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    public void Dispose() => _folder.Dispose();
}
