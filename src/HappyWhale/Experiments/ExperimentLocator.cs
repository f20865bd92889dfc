namespace HappyWhale.Experiments;

/// <summary>Finds an experiment file from what a user typed and names it.</summary>
internal static class ExperimentLocator
{
    /// <summary>
    /// Tries, in order: the argument as a path, then under experimentsDir as given and with .yaml,
    /// so `quickstart`, `quickstart.yaml`, `ci/smoke` and `./my.yaml` all work.
    /// </summary>
    public static string? Find(string experimentsDir, string nameOrPath)
    {
        string[] candidates =
        [
            nameOrPath,
            Path.Combine(experimentsDir, nameOrPath),
            Path.Combine(experimentsDir, nameOrPath + ".yaml"),
        ];
        return candidates.Select(Path.GetFullPath).FirstOrDefault(File.Exists);
    }

    /// <summary>The file's path under experimentsDir without .yaml, '/'-separated ("ci/smoke"); just the file name if outside.</summary>
    public static string DefaultName(string experimentsDir, string fullPath)
    {
        var relative = Path.GetRelativePath(experimentsDir, fullPath);
        if (relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative))
            relative = Path.GetFileName(fullPath);
        var name = relative.Replace(Path.DirectorySeparatorChar, '/');
        return name.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) ? name[..^5] : name;
    }
}
