using System.Diagnostics;

namespace HappyWhale.Tracking;

/// <summary>The commit the code ran from, for the mlflow.source.git.commit tag.</summary>
public static class GitInfo
{
    public static string? Commit(string repoRoot)
    {
        try
        {
            var info = new ProcessStartInfo("git", "rev-parse HEAD")
            {
                WorkingDirectory = repoRoot, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            using var git = Process.Start(info);
            if (git is null) return null;
            string output = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit(5000);
            return git.ExitCode == 0 && output.Length == 40 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception) { return null; }
    }
}
