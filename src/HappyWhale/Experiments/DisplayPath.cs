namespace HappyWhale.Experiments;

/// <summary>How a file is named in messages: relative to the working directory when inside it, else absolute.</summary>
internal static class DisplayPath
{
    public static string Of(string fullPath)
    {
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, fullPath);
        return relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? fullPath : relative;
    }
}
