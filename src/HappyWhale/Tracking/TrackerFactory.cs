namespace HappyWhale.Tracking;

/// <summary>Picks the tracker for a tracking URI. Reading MLFLOW_TRACKING_URI is the caller's job.</summary>
public static class TrackerFactory
{
    /// <summary>
    /// null/empty → the file store at &lt;repoRoot&gt;/artifacts/mlruns; a plain path or a file: URI → a file store there
    /// (relative paths are taken from <paramref name="repoRoot"/>, so the result does not depend on the working folder);
    /// http(s):// → <see cref="MlflowRestTracker"/> with MLflow's credential variables and the spool under
    /// &lt;repoRoot&gt;/artifacts/mlruns-spool. Either way wrapped in an <see cref="ActiveRunGuard"/> (see <see cref="ActiveRunsFile"/>).
    /// </summary>
    public static ITracker Create(string? uri, string repoRoot)
    {
        ArgumentException.ThrowIfNullOrEmpty(repoRoot);
        ITracker inner = IsHttp(uri)
            ? new MlflowRestTracker(MlflowRestOptions.FromEnvironment(uri!, SpoolRoot(repoRoot)))
            : new MlflowFileStore(ResolveFileStoreRoot(uri, repoRoot));
        return new ActiveRunGuard(inner, new ActiveRunRegistry(ActiveRunsFile(repoRoot)));
    }

    public static bool IsHttp(string? uri) => uri is not null &&
        (uri.Trim().StartsWith("http://", StringComparison.OrdinalIgnoreCase) || uri.Trim().StartsWith("https://", StringComparison.OrdinalIgnoreCase));

    /// <summary>&lt;repoRoot&gt;/artifacts/mlruns-spool: one sub-folder per server.</summary>
    public static string SpoolRoot(string repoRoot) => Path.GetFullPath(Path.Combine(repoRoot, "artifacts", "mlruns-spool"));

    /// <summary>&lt;repoRoot&gt;/artifacts/mlruns-active.json: runs started and not yet ended, with their process.</summary>
    public static string ActiveRunsFile(string repoRoot) => Path.GetFullPath(Path.Combine(repoRoot, "artifacts", ActiveRunRegistry.DefaultFileName));

    /// <summary>The local folder a file-store URI points to; throws for schemes we do not serve.</summary>
    public static string ResolveFileStoreRoot(string? uri, string repoRoot)
    {
        if (string.IsNullOrWhiteSpace(uri))
            return Path.GetFullPath(Path.Combine(repoRoot, "artifacts", "mlruns"));
        uri = uri.Trim();
        if (IsHttp(uri))
            throw new NotSupportedException(
                $"Tracking URI '{CredentialScrubber.StripUserInfo(uri)}' is an MLflow server, not a file store; TrackerFactory.Create gives its REST tracker.");
        string path;
        if (uri.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
            path = StoreFiles.FromFileUri(uri);
        else if (HasScheme(uri))
            throw new NotSupportedException($"Tracking URI scheme of '{CredentialScrubber.StripUserInfo(uri)}' is not supported; use a local path, a file: URI, or http(s)://.");
        else
            path = uri;
        if (path.Length == 0)
            throw new ArgumentException($"Tracking URI '{CredentialScrubber.StripUserInfo(uri)}' has no path.", nameof(uri));
        return RepoPath.Resolve(path, repoRoot);
    }

    // "sqlite:///x.db", "databricks", "postgresql://..." have a scheme; "C:\x" (a drive letter) does not.
    private static bool HasScheme(string uri)
    {
        int colon = uri.IndexOf(':');
        return colon > 1 && uri[..colon].All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.') && char.IsAsciiLetter(uri[0]);
    }
}
