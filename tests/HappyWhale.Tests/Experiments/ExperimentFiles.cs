using HappyWhale.Experiments;

namespace HappyWhale.Tests.Experiments;

/// <summary>A throwaway experiments/ folder holding a copy of the repository's defaults.yaml.</summary>
internal sealed class ExperimentFiles : IDisposable
{
    public string Dir { get; } = Directory.CreateTempSubdirectory("hw-exp-").FullName;

    public ExperimentFiles()
    {
        File.Copy(DefaultsPath, Path.Combine(Dir, "defaults.yaml"));
    }

    /// <summary>The repository's experiments/ folder, found above the test binaries.</summary>
    public static string RepoExperimentsDir { get; } = FindRepoExperiments();

    public static string DefaultsPath => Path.Combine(RepoExperimentsDir, "defaults.yaml");

    private static string FindRepoExperiments()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "experiments");
            if (File.Exists(Path.Combine(candidate, "defaults.yaml"))) return candidate;
        }
        throw new InvalidOperationException("experiments/defaults.yaml not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Writes a file under the folder (subfolders created) and returns its full path.</summary>
    public string Write(string relativePath, string yaml)
    {
        var path = Path.Combine(Dir, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, yaml);
        return path;
    }

    public ResolvedExperiment Load(string name, params string[] sets) => ExperimentLoader.Load(Dir, name, sets);

    public ExperimentException Fail(string name, params string[] sets) =>
        Assert.Throws<ExperimentException>(() => ExperimentLoader.Load(Dir, name, sets));

    public void Dispose()
    {
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}
