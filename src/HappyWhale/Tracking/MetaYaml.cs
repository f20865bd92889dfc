using HappyWhale.Experiments;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace HappyWhale.Tracking;

/// <summary>Reads a flat meta.yaml (experiment or run) into key → scalar text; null for YAML null, lists skipped.</summary>
internal static class MetaYaml
{
    public static Dictionary<string, string?> Read(string path)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(path, StoreFiles.Utf8))
            stream.Load(reader);
        var result = new Dictionary<string, string?>(StringComparer.Ordinal);
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode map)
            return result;
        foreach (var (k, v) in map.Children)
        {
            if (k is not YamlScalarNode key || key.Value is null || v is not YamlScalarNode scalar) continue;
            bool plainNull = scalar.Style == ScalarStyle.Plain && (scalar.Value is null || YamlScalars.IsNull(scalar.Value));
            result[key.Value] = plainNull ? null : scalar.Value;
        }
        return result;
    }

    /// <summary>Null when the file is missing or unreadable: MLflow too skips such folders as "malformed".</summary>
    public static Dictionary<string, string?>? TryRead(string path)
    {
        try { return File.Exists(path) ? Read(path) : null; }
        catch (Exception e) when (e is IOException or YamlException or UnauthorizedAccessException) { return null; }
    }
}
