namespace HappyWhale.Tracking;

/// <summary>Picks the tracker for a tracking URI. Reading MLFLOW_TRACKING_URI is the caller's job.</summary>
public static class TrackerFactory
{
    /// <summary>
    /// null/empty → the file store at &lt;repoRoot&gt;/artifacts/mlruns; a plain path or a file: URI → a file store there
    /// (relative paths are taken from <paramref name="repoRoot"/>, so the result does not depend on the working folder);
    /// http(s):// → not yet supported.
    /// </summary>
    public static ITracker Create(string? uri, string repoRoot)
    {
        ArgumentException.ThrowIfNullOrEmpty(repoRoot);
        return new MlflowFileStore(ResolveFileStoreRoot(uri, repoRoot));
    }

    /// <summary>The local folder a file-store URI points to; throws for schemes we do not serve.</summary>
    public static string ResolveFileStoreRoot(string? uri, string repoRoot)
    {
        if (string.IsNullOrWhiteSpace(uri))
            return Path.GetFullPath(Path.Combine(repoRoot, "artifacts", "mlruns"));
        uri = uri.Trim();
        if (uri.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || uri.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            throw new NotSupportedException(
                $"MLflow REST tracking is not implemented yet (tracking URI '{uri}'). Use a local path or file: URI for now.");
        string path;
        if (uri.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
            path = StoreFiles.FromFileUri(uri);
        else if (HasScheme(uri))
            throw new NotSupportedException($"Tracking URI scheme of '{uri}' is not supported; use a local path, a file: URI, or http(s)://.");
        else
            path = uri;
        if (path.Length == 0)
            throw new ArgumentException($"Tracking URI '{uri}' has no path.", nameof(uri));
        return Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(repoRoot, path));
    }

    // "sqlite:///x.db", "databricks", "postgresql://..." have a scheme; "C:\x" (a drive letter) does not.
    private static bool HasScheme(string uri)
    {
        int colon = uri.IndexOf(':');
        return colon > 1 && uri[..colon].All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.') && char.IsAsciiLetter(uri[0]);
    }
}
