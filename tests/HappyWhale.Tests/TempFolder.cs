namespace HappyWhale.Tests;

/// <summary>A fresh folder under the system temp folder, deleted on dispose.</summary>
public sealed class TempFolder : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "hw-test-" + Guid.NewGuid().ToString("N")[..12]);
    public TempFolder() => Directory.CreateDirectory(Path);
    public string this[string relative] => System.IO.Path.Combine(Path, relative);
    public void Dispose() { try { Directory.Delete(Path, recursive: true); } catch (IOException) { } }
}
