namespace HappyWhale.Tests.EndToEnd;

/// <summary>A bad experiment file stops the real program before any stage, names the place, and leaves the cache alone.</summary>
public class BrokenExperimentTests
{
    [Theory]
    [InlineData("train:\n  batch_sise: 8\n", "broken.yaml:2:3", "train.batch_size")]
    [InlineData("train:\n  batch_size: many\n", "broken.yaml:2:15", "batch_size")]
    [InlineData("train:\n  batch_size: 0\n", "broken.yaml:2:15", "batch_size")]
    [InlineData("extends: missing.yaml\n", "broken.yaml:1:10", "missing.yaml")]
    [InlineData("train: [1, 2\n", "broken.yaml:", "")]
    public void Fails_with_file_line_column_and_leaves_the_cache_unchanged(string yaml, string where, string mentions)
    {
        using var repo = new TestRepository();
        repo.Write("tiny.yaml", TinyExperiment.Yaml);
        Assert.Equal(0, repo.RunCli("synth", "--exp", "tiny").ExitCode);
        var before = repo.CacheListing();
        Assert.NotEmpty(before);

        repo.Write("broken.yaml", yaml);
        var (code, output) = repo.RunCli("run", "--exp", "broken");

        Assert.NotEqual(0, code);
        Assert.Contains(where, output);
        Assert.Contains(mentions, output);
        Assert.DoesNotContain("   at ", output);
        Assert.Equal(before, repo.CacheListing());
    }
}
