namespace HappyWhale.Experiments;

/// <summary>One flattened key whose value differs; null means the key is absent on that side (e.g. an extra phase).</summary>
public sealed record ExperimentDifference(string Key, string? A, string? B);

public static class ExperimentDiff
{
    /// <summary>The flattened keys that differ, in a's key order followed by keys only b has.</summary>
    public static IReadOnlyList<ExperimentDifference> Diff(ResolvedExperiment a, ResolvedExperiment b)
    {
        var fa = a.Flatten();
        var fb = b.Flatten();
        var result = new List<ExperimentDifference>();
        foreach (var (key, va) in fa)
        {
            var vb = fb.TryGetValue(key, out var v) ? v : null;
            if (va != vb) result.Add(new(key, va, vb));
        }
        foreach (var (key, vb) in fb)
            if (!fa.ContainsKey(key)) result.Add(new(key, null, vb));
        return result;
    }
}
