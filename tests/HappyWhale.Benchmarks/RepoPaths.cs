namespace HappyWhale.Benchmarks;

internal static class RepoPaths
{
    /// <summary>The folder holding HappyWhale.sln, found upwards from the program's location.</summary>
    public static string Root { get; } = Find();

    static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "HappyWhale.sln"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }

    public static string Bench(params string[] parts) =>
        Path.Combine([Root, "artifacts", "bench", .. parts]);
}
