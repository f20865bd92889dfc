namespace HappyWhale.Data;

/// <summary>
/// Lists every file under a data folder, following links to folders as before, except a link that
/// leads back into a folder the walk is already inside: .NET's recursive enumeration follows such a
/// loop until the path is too long (two loops made it exponential), so the walk stops with a short
/// "symlink loop" message naming each link instead.
/// </summary>
public static class FileTree
{
    const int MaxLoopsShown = 5;

    /// <summary>Full paths (through any links, as found) of every file under <paramref name="root"/>.</summary>
    /// <exception cref="UserException">when a link loops back, or a folder cannot be read</exception>
    public static List<string> Files(string root)
    {
        var files = new List<string>();
        var loops = new List<string>();
        string real = RealPath(root);
        Walk(root, root, real, [real], files, loops);
        if (loops.Count > 0)
            throw new UserException($"symlink loop in the data folder {root}:\n" +
                string.Join("\n", loops.Take(MaxLoopsShown).Select(l => "  " + l)) +
                (loops.Count > MaxLoopsShown ? $"\n  ... and {loops.Count - MaxLoopsShown} more" : "") +
                "\nRemove these links or point them outside the folder they sit in.");
        return files;
    }

    static void Walk(string root, string dir, string realDir, HashSet<string> onPath, List<string> files, List<string> loops)
    {
        IEnumerable<FileSystemInfo> entries;
        try { entries = new DirectoryInfo(dir).EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal).ToList(); }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new UserException($"cannot list the data folder {dir} ({e.Message}); check its permissions.", e);
        }
        foreach (var entry in entries)
        {
            bool link = entry.Attributes.HasFlag(FileAttributes.ReparsePoint);
            string real = link ? RealPath(entry.FullName) : Path.Join(realDir, entry.Name);
            if (!(link ? Directory.Exists(real) : entry is DirectoryInfo)) { files.Add(entry.FullName); continue; }
            if (onPath.Contains(real))
            {
                loops.Add($"symlink loop: {Path.GetRelativePath(root, entry.FullName)} -> {entry.LinkTarget} leads back to {real}");
                continue;
            }
            onPath.Add(real);
            Walk(root, entry.FullName, real, onPath, files, loops);
            onPath.Remove(real);
        }
    }

    /// <summary>The path with every link resolved, component by component as the kernel does ("link/.." is the link target's parent).</summary>
    static string RealPath(string path)
    {
        string full = Path.IsPathRooted(path) ? path : Path.Join(Environment.CurrentDirectory, path);
        string current = Path.GetPathRoot(full)!;
        var pending = new Stack<string>(Parts(full[current.Length..]).Reverse());
        int links = 0;
        while (pending.TryPop(out var part))
        {
            if (part is "" or ".") continue;
            if (part == "..") { current = Path.GetDirectoryName(current) ?? current; continue; }
            string next = Path.Join(current, part);
            string? target = new FileInfo(next).LinkTarget;
            if (target is null) { current = next; continue; }
            // The kernel's limit too: beyond it a chain of links is a loop (or as good as one).
            if (++links > 40) throw new UserException($"symlink loop: {next} -> {target} (more than 40 links in a row)");
            if (Path.IsPathRooted(target)) current = Path.GetPathRoot(target)!;
            foreach (var p in Parts(target[(Path.IsPathRooted(target) ? Path.GetPathRoot(target)!.Length : 0)..]).Reverse()) pending.Push(p);
        }
        return current;
    }

    static string[] Parts(string path) => path.Split(['/', Path.DirectorySeparatorChar], StringSplitOptions.RemoveEmptyEntries);
}
