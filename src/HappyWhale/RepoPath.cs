namespace HappyWhale;

public static class RepoPath
{
    /// <summary>A relative path is taken from the repository root, so the result does not depend on the working folder.</summary>
    public static string Resolve(string path, string? repoRoot) =>
        Path.IsPathRooted(path) || string.IsNullOrEmpty(repoRoot) ? Path.GetFullPath(path) : Path.GetFullPath(Path.Combine(repoRoot, path));
}
