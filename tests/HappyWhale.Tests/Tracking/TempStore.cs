namespace HappyWhale.Tests.Tracking;

/// <summary>A throw-away folder holding a store root (not created: a fresh store starts from a missing root).</summary>
public sealed class TempStore : IDisposable
{
    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "hw-tracking-" + Guid.NewGuid().ToString("N"));
    public string Root => Path.Combine(Folder, "mlruns");

    public TempStore() => Directory.CreateDirectory(Folder);

    public void Dispose()
    {
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
    }
}
