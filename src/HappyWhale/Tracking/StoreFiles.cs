using System.Runtime.InteropServices;
using System.Text;

namespace HappyWhale.Tracking;

/// <summary>File-system primitives the store needs: atomic replace, exclusive mkdir, file: URIs.</summary>
internal static class StoreFiles
{
    // MLflow writes these files with codecs.open(..., encoding="utf-8"), without a BOM.
    public static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

    /// <summary>
    /// Writes via a temp file in the same folder and a rename, so a reader (mlflow ui, another process)
    /// never sees a half-written meta.yaml. MLflow's own overwrite_yaml does temp + move for the same reason.
    /// The temp name is a dotted file, which MLflow ignores (it only lists sub-folders and known file names).
    /// </summary>
    /// <param name="tempDirectory">Where the temp file lives; must be on the same volume. Params and tags pass the
    /// run folder, because MLflow reads every file under params/ and tags/ as an entry.</param>
    public static void WriteAtomic(string path, string content, string? tempDirectory = null) =>
        AtomicFile.Write(path, content, tempDirectory: tempDirectory);

    /// <summary>
    /// Creates a directory only if it did not exist (mkdir(2) semantics): true when this call created it.
    /// Directory.CreateDirectory succeeds on an existing folder, so it cannot arbitrate between two processes.
    /// </summary>
    public static bool TryCreateDirectoryExclusive(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            if (CreateDirectoryW(path, IntPtr.Zero)) return true;
            int err = Marshal.GetLastWin32Error();
            if (err == 183 /* ERROR_ALREADY_EXISTS */) return false;
            throw new IOException($"Could not create directory '{path}' (Win32 error {err}).");
        }
        if (mkdir(path, Convert.ToUInt32("777", 8)) == 0) return true;
        int errno = Marshal.GetLastPInvokeError();
        if (errno == 17 /* EEXIST on Linux and macOS */) return false;
        throw new IOException($"Could not create directory '{path}' (errno {errno}).");
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int mkdir([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);

    [DllImport("kernel32", SetLastError = true, CharSet = CharSet.Unicode)]
    private static extern bool CreateDirectoryW(string path, IntPtr securityAttributes);

    /// <summary>
    /// Python's pathlib.Path(os.path.abspath(p)).as_uri(), which MLflow uses for artifact locations
    /// (mlflow/utils/file_utils.py, path_to_local_file_uri): "file://" + percent-quoted path, '/' kept.
    /// </summary>
    public static string ToFileUri(string path)
    {
        var full = Path.GetFullPath(path);
        if (OperatingSystem.IsWindows())
        {
            full = full.Replace('\\', '/');
            if (full.Length >= 2 && full[1] == ':') return "file:///" + full[..2] + Quote(full[2..]);
            return "file:" + Quote(full);
        }
        return "file://" + Quote(full);
    }

    private static string Quote(string path)
    {
        var sb = new StringBuilder();
        foreach (var b in Utf8.GetBytes(path))
        {
            char c = (char)b;
            bool safe = c is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9' or '_' or '.' or '-' or '~' or '/';
            if (safe) sb.Append(c); else sb.Append('%').Append(b.ToString("X2"));
        }
        return sb.ToString();
    }

    /// <summary>Local path of a file: URI (MLflow's local_file_uri_to_path: urlparse(uri).path, then unquote).</summary>
    public static string FromFileUri(string uri)
    {
        if (!uri.StartsWith("file:", StringComparison.OrdinalIgnoreCase)) return uri;
        var rest = uri["file:".Length..];
        if (rest.StartsWith("//", StringComparison.Ordinal))
        {
            rest = rest[2..];
            int slash = rest.IndexOf('/');
            rest = slash < 0 ? "" : rest[slash..]; // drop the authority ("" or "localhost")
        }
        var path = Uri.UnescapeDataString(rest);
        if (OperatingSystem.IsWindows() && path.Length >= 3 && path[0] == '/' && path[2] == ':') path = path[1..];
        return path;
    }
}
