using System.Collections;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace HappyWhale.Modeling;

/// <summary>A tensor whose shape in the file differs from the model's.</summary>
public sealed record ShapeMismatch(string Name, long[] Expected, long[] Found)
{
    public override string ToString() => $"{Name}: expected {WeightImport.Shape(Expected)}, found {WeightImport.Shape(Found)}";
}

/// <summary>
/// What importing a weights file did: tensors loaded, tensors the model expected but the file lacks
/// (<see cref="Missing"/>), tensors of the wrong shape, file tensors with no place in the model
/// (<see cref="Unexpected"/>), and file tensors dropped on purpose (a torchvision classifier / fc; a saved
/// ReidModel's pool, neck and heads, since only the backbone is imported).
/// </summary>
public sealed record WeightImportReport(
    string File,
    IReadOnlyList<string> Loaded,
    IReadOnlyList<string> Missing,
    IReadOnlyList<ShapeMismatch> ShapeMismatches,
    IReadOnlyList<string> Unexpected,
    IReadOnlyList<string> Dropped)
{
    /// <summary>True when every expected tensor was loaded and nothing in the file was left over.</summary>
    public bool IsComplete => Missing.Count == 0 && ShapeMismatches.Count == 0 && Unexpected.Count == 0;

    /// <summary>One line: counts only.</summary>
    public string Summary =>
        $"{File}: loaded {Loaded.Count} tensors; {ShapeMismatches.Count} wrong shape, {Missing.Count} missing, " +
        $"{Unexpected.Count} unexpected, {Dropped.Count} dropped (classifier, or not part of the backbone)";

    /// <summary>The summary followed by every mismatch, one per line.</summary>
    public string Describe() => Summary + string.Concat(Lines());

    /// <summary>Every mismatch, each as a line starting with a newline.</summary>
    public IEnumerable<string> Lines()
    {
        foreach (var m in ShapeMismatches) yield return "\n  wrong shape " + m;
        foreach (var m in Missing) yield return "\n  missing " + m;
        foreach (var u in Unexpected) yield return "\n  unexpected " + u;
    }
}

/// <summary>
/// Loads pretrained weights by name into a model: a <c>.safetensors</c> file or a PyTorch state_dict
/// saved with <c>torch.save</c> (read with TorchSharp.PyBridge). Names match the model's state dict
/// directly or under the model's backbone prefix, so torchvision's <c>features.*</c> land in a
/// <see cref="ReidModel"/>'s <c>backbone.features.*</c>; names that already carry the prefix work too.
/// A torchvision classifier (<c>classifier.*</c>, <c>fc.*</c>) with no place in the model is dropped.
/// For a ReidModel only the backbone is expected from the file (pool, neck and heads start fresh).
/// </summary>
public static class WeightImport
{
    public const string BackbonePrefix = "backbone.";
    static readonly string[] ClassifierPrefixes = ["classifier.", "fc."];

    /// <summary>Lower-case hex SHA-256 of the file's content (the train cache key includes it).</summary>
    public static string Sha256(string path) => FileHash.Sha256Hex(RequireFile(path));

    static string RequireFile(string path) =>
        System.IO.File.Exists(path) ? path : throw new UserException($"model.pretrained: weights file not found: {path}");

    /// <summary>
    /// Reads every tensor of a weights file. Throws <see cref="UserException"/> naming the file when it does not
    /// exist or is not a safetensors / torch.save state_dict file. The caller disposes the tensors.
    /// </summary>
    public static Dictionary<string, Tensor> ReadStateDict(string path)
    {
        var kind = Sniff(RequireFile(path));
        try
        {
            switch (kind)
            {
                case FileKind.Safetensors:
                    return new Dictionary<string, Tensor>(Safetensors.LoadStateDict(path), StringComparer.Ordinal);
                case FileKind.Pickle:
                    return FromHashtable(PyTorchUnpickler.UnpickleStateDict(path), path);
                default:
                    throw new UserException(
                        $"model.pretrained: {path} is not a weights file: expected a .safetensors file or a PyTorch state_dict saved with torch.save.");
            }
        }
        catch (UserException) { throw; }
        catch (Exception e)
        {
            throw new UserException($"model.pretrained: cannot read weights from {path}: it looks like a " +
                $"{(kind == FileKind.Safetensors ? "safetensors" : "torch.save")} file but reading failed ({e.GetType().Name}: {e.Message}).", e);
        }
    }

    /// <summary>Reads <paramref name="path"/> and loads it into <paramref name="model"/>; see <see cref="Apply"/>.</summary>
    public static WeightImportReport Load(nn.Module model, string path, bool strict = true)
    {
        var tensors = ReadStateDict(path);
        try { return Apply(model, tensors, path, strict); }
        finally { foreach (var t in tensors.Values) t.Dispose(); }
    }

    /// <summary>
    /// Copies <paramref name="source"/> tensors into <paramref name="model"/> by name. Strict: any missing,
    /// mis-shaped or unexpected tensor throws a <see cref="UserException"/> listing every one of them, and
    /// nothing is changed. Not strict: loads what matches and returns the rest in the report.
    /// </summary>
    public static WeightImportReport Apply(nn.Module model, IReadOnlyDictionary<string, Tensor> source, string fileLabel, bool strict = true)
    {
        var target = model.state_dict();
        bool isReid = model is ReidModel;
        var expected = target.Keys.Where(k => !isReid || k.StartsWith(BackbonePrefix, StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);

        var matched = new List<(string Target, Tensor Value)>();
        var mismatches = new List<ShapeMismatch>();
        var unexpected = new List<string>();
        var dropped = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);

        foreach (var (name, value) in source.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            string? mapped = MapName(name, expected);
            if (mapped is null)
            {
                // A torchvision classifier, or the pool/neck/heads of a saved ReidModel: not backbone weights.
                if (ClassifierPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal)) || target.ContainsKey(name)) dropped.Add(name);
                else unexpected.Add(name);
                continue;
            }
            if (!seen.Add(mapped)) { unexpected.Add(name); continue; }   // both "x" and "backbone.x" in one file
            var dest = target[mapped];
            if (!dest.shape.SequenceEqual(value.shape))
            {
                mismatches.Add(new ShapeMismatch(mapped, dest.shape, value.shape));
                continue;
            }
            matched.Add((mapped, value));
        }
        var missing = expected.Where(k => !seen.Contains(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();

        var report = new WeightImportReport(fileLabel, matched.Select(m => m.Target).ToList(), missing, mismatches, unexpected, dropped);
        if (strict && !report.IsComplete)
            throw new UserException($"model.pretrained: {fileLabel} does not fit model {Describe(model)} " +
                $"({mismatches.Count} wrong shape, {missing.Count} missing, {unexpected.Count} unexpected; " +
                "set model.pretrained_strict: false to load only what matches):" + string.Concat(report.Lines()));

        using (torch.no_grad())
        {
            foreach (var (name, value) in matched) target[name].copy_(value);
        }
        return report;
    }

    /// <summary>The model name a file tensor maps to, or null.</summary>
    static string? MapName(string name, HashSet<string> expected)
    {
        if (expected.Contains(name)) return name;
        if (expected.Contains(BackbonePrefix + name)) return BackbonePrefix + name;
        if (name.StartsWith(BackbonePrefix, StringComparison.Ordinal) && expected.Contains(name[BackbonePrefix.Length..]))
            return name[BackbonePrefix.Length..];
        return null;
    }

    static string Describe(nn.Module model) => model is ReidModel reid ? $"'{reid.BackboneName}'" : model.GetType().Name;

    internal static string Shape(long[] shape) => "[" + string.Join(", ", shape) + "]";

    enum FileKind { Unknown, Safetensors, Pickle }

    /// <summary>
    /// Recognises the format by its first bytes: a zip archive ("PK", torch.save since 1.6) or a pickle
    /// (0x80 protocol byte, legacy torch.save), or safetensors (8-byte little-endian header length, then '{').
    /// </summary>
    static FileKind Sniff(string path)
    {
        Span<byte> head = stackalloc byte[9];
        int n;
        using (var s = System.IO.File.OpenRead(path)) n = s.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (n >= 2 && head[0] == (byte)'P' && head[1] == (byte)'K') return FileKind.Pickle;
        if (n >= 1 && head[0] == 0x80) return FileKind.Pickle;
        if (n == 9 && head[8] == (byte)'{')
        {
            ulong headerLength = BitConverter.ToUInt64(head[..8]);
            if (headerLength > 1 && headerLength < (ulong)new FileInfo(path).Length) return FileKind.Safetensors;
        }
        return FileKind.Unknown;
    }

    static Dictionary<string, Tensor> FromHashtable(Hashtable table, string path)
    {
        // A training checkpoint often wraps the weights: {"state_dict": {...}} or {"model": {...}}.
        foreach (var key in new[] { "state_dict", "model" })
            if (table[key] is Hashtable inner && table.Count <= 8) return FromHashtable(inner, path);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in table)
        {
            if (e.Key is not string name || e.Value is not Tensor t)
            {
                foreach (var v in result.Values) v.Dispose();
                throw new UserException($"model.pretrained: {path} is not a state_dict: entry '{e.Key}' is a {e.Value?.GetType().Name ?? "null"}, not a tensor. " +
                    "Save weights with torch.save(model.state_dict(), path).");
            }
            result[name] = t;
        }
        if (result.Count == 0) throw new UserException($"model.pretrained: {path} holds no tensors.");
        return result;
    }
}
