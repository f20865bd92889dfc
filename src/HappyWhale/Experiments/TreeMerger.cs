namespace HappyWhale.Experiments;

/// <summary>The one merge rule of experiments: maps merge key by key, lists and scalars replace.</summary>
internal static class TreeMerger
{
    /// <summary>Returns <paramref name="over"/> laid on <paramref name="under"/>; keys keep the order they first appear in.</summary>
    public static SourceNode Merge(SourceNode under, SourceNode over)
    {
        if (under is not SourceMap baseMap || over is not SourceMap overMap) return over;
        // A fresh map, so later --set edits never reach back into a parent file's tree.
        var result = new SourceMap(overMap.At);
        foreach (var (key, value) in baseMap.Entries) result.Set(key, value);
        foreach (var (key, value) in overMap.Entries)
            result.Set(key, result.TryGet(key.Value, out var existing) ? Merge(existing, value) : value);
        return result;
    }
}
