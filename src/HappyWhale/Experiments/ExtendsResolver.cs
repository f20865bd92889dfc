namespace HappyWhale.Experiments;

/// <summary>
/// Reads an experiment file and the chain of files it extends into one tree. A parent's `name` is
/// not inherited: a name identifies one file's experiment in reports, and two files sharing it would collide.
/// </summary>
internal sealed class ExtendsResolver(string experimentsDir, List<ExperimentError> errors)
{
    public const string ExtendsKey = "extends";

    public SourceMap Resolve(string fullPath) => Resolve(fullPath, []);

    private SourceMap Resolve(string fullPath, List<string> chain)
    {
        chain.Add(fullPath);
        var map = ReadExperimentFile(fullPath);
        if (map.TryGet(ExtendsKey, out var extends))
        {
            map.Remove(ExtendsKey);
            var parent = ResolveParent(extends, Path.GetDirectoryName(fullPath)!, chain);
            if (parent is not null)
            {
                parent.Remove("name");
                map = (SourceMap)TreeMerger.Merge(parent, map);
            }
        }
        chain.RemoveAt(chain.Count - 1);
        return map;
    }

    private SourceMap? ResolveParent(SourceNode extends, string folder, List<string> chain)
    {
        if (extends is not SourceScalar { IsNull: false } target)
        {
            errors.Add(new(extends.At, $"extends must name one experiment file, not {extends.Describe()}"));
            return null;
        }
        var parentPath = Locate(target.Value, folder);
        if (parentPath is null)
        {
            errors.Add(new(target.At, $"extends: cannot find '{target.Value}' (looked in {DisplayPath.Of(folder)} and {DisplayPath.Of(experimentsDir)})"));
            return null;
        }
        if (chain.Contains(parentPath))
        {
            var cycle = chain.SkipWhile(p => p != parentPath).Append(parentPath).Select(Path.GetFileName);
            errors.Add(new(target.At, "extends cycle: " + string.Join(" -> ", cycle)));
            return null;
        }
        return Resolve(parentPath, chain);
    }

    // The extending file's own folder first, so sibling files in a subfolder can extend each other by bare name.
    private string? Locate(string target, string folder) =>
        new[] { folder, experimentsDir }
            .SelectMany(dir => new[] { Path.Combine(dir, target), Path.Combine(dir, target + ".yaml") })
            .Select(Path.GetFullPath)
            .FirstOrDefault(File.Exists);

    private SourceMap ReadExperimentFile(string fullPath)
    {
        var label = DisplayPath.Of(fullPath);
        var doc = SourceTreeReader.ReadFile(fullPath, label);
        errors.AddRange(doc.Errors);
        switch (doc.Root)
        {
            case SourceMap map:
                return map;
            case SourceScalar { IsNull: true } or null:
                // An empty file (or one we could not parse) contributes nothing; errors are already recorded.
                return new SourceMap(new(label, 1, 1));
            default:
                errors.Add(new(doc.Root.At, "an experiment file must be a map of keys, not " + doc.Root.Describe()));
                return new SourceMap(new(label, 1, 1));
        }
    }
}
