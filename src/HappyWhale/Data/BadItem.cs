using HappyWhale.Experiments;

namespace HappyWhale.Data;

/// <summary>
/// One input the pipeline cannot use: the file, the 1-based CSV line when the problem is a row (or the
/// image was listed on one), and why. <see cref="Fatal"/> problems (a CSV whose header is wrong, a
/// missing label file) stop a run whatever data.on_bad_image says: nothing after them can be trusted.
/// </summary>
public sealed record BadItem(string File, int? Line, string Reason, bool Fatal = false)
{
    public override string ToString() => Line is { } line ? $"{File}:{line}: {Reason}" : $"{File}: {Reason}";
}

public static class BadItems
{
    public const long DefaultMaxImagePixels = 50_000_000;
    public const long DefaultMaxZipEntryBytes = 64L << 20;

    /// <summary>Throws a <see cref="UserException"/> listing every item when the policy is stop or any item is fatal.</summary>
    /// <param name="outcome">what did not happen, for the message.</param>
    public static void ThrowIfStopping(IReadOnlyList<BadItem> items, BadImagePolicy policy, string outcome = "nothing was trained")
    {
        if (items.Count == 0) return;
        bool fatal = items.Any(i => i.Fatal);
        if (policy == BadImagePolicy.Skip && !fatal) return;
        var lines = string.Join("\n", items.Select(i => "  " + i));
        string advice = fatal
            ? "Fix the files marked above (a label file that cannot be read stops the run whatever data.on_bad_image says)."
            : "Fix or remove them, or set data.on_bad_image: skip to leave them out and continue.";
        throw new UserException($"{items.Count} bad input item(s), {outcome}:\n{lines}\n{advice}");
    }
}
