using System.Text.RegularExpressions;
using HappyWhale.Tests.Data;
using HappyWhale.Tests.EndToEnd;

namespace HappyWhale.Tests.BadInputs;

/// <summary>
/// The bad-input catalogue: each test gives the real program one bad input and asserts that it stops
/// with exit code 2 and a message naming the place and what to do, no stack trace, and the cache exactly
/// as it was. Every run has a time limit, so an input that hangs fails its test instead of blocking CI.
/// </summary>
static partial class Catalogue
{
    /// <summary>Generous for a shared 2-core machine; the inputs themselves stop within a second or two when alone.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);

    /// <summary>A repository with an unrelated complete-looking entry in its cache, so "untouched" is not just "empty".</summary>
    public static TestRepository Repository()
    {
        var repo = new TestRepository();
        string entry = Path.Combine(repo.Cache, "prepare", new string('0', 64));
        Directory.CreateDirectory(entry);
        File.WriteAllText(Path.Combine(entry, "manifest.json"), "{}");
        return repo;
    }

    /// <summary>Runs the program and asserts a refusal: exit code 2, every fragment in the message, no trace, the cache unchanged.</summary>
    public static string AssertRefused(TestRepository repo, string[] args, params string[] mentions)
    {
        var before = Listing(repo);
        var (code, output) = repo.RunCli(Limit, args);
        Assert.True(code == 2, $"exit code {code}, expected 2 (bad input):\n{output}");
        foreach (var m in mentions) Assert.True(Mentions(output, m), $"the message lacks '{m}':\n{output}");
        Assert.DoesNotContain("   at ", output);
        Assert.DoesNotContain("looks like a bug", output);
        Assert.Equal(before, Listing(repo));
        return output;
    }

    /// <summary>Every file and entry folder under artifacts/cache (stage folders themselves may be created empty).</summary>
    public static IReadOnlyList<string> Listing(TestRepository repo) =>
        !Directory.Exists(repo.Cache) ? [] :
        Directory.EnumerateFileSystemEntries(repo.Cache, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(repo.Cache, p).Replace('\\', '/'))
            .Where(rel => File.Exists(Path.Combine(repo.Cache, rel)) || rel.Contains('/'))
            .Select(rel => File.Exists(Path.Combine(repo.Cache, rel)) ? $"{rel}:{new FileInfo(Path.Combine(repo.Cache, rel)).Length}" : rel + "/")
            .Order(StringComparer.Ordinal).ToList();

    /// <summary>Whether the output holds the fragment; the console wraps long lines, so runs of whitespace count as one space.</summary>
    public static bool Mentions(string output, string fragment) => Flat(output).Contains(Flat(fragment), StringComparison.Ordinal);

    static string Flat(string text) => Whitespace().Replace(text, " ");

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    public const string KaggleExperiment = """
        data:
          source: kaggle
          root: data
        prepare:
          image_size: 16
        """;

    /// <summary>
    /// A Kaggle-layout folder at data/ with four individuals of two images each and two test images, all
    /// good; <paramref name="trainCsv"/> replaces train.csv when given.
    /// </summary>
    public static string Kaggle(TestRepository repo, string? trainCsv = null)
    {
        string root = Path.Combine(repo.Root, "data");
        Directory.CreateDirectory(Path.Combine(root, "train_images"));
        Directory.CreateDirectory(Path.Combine(root, "test_images"));
        var rows = new List<string> { "image,species,individual_id" };
        for (int i = 0; i < 8; i++)
        {
            File.WriteAllBytes(Path.Combine(root, "train_images", $"t{i}.png"), FolderSourceTests.Png(i));
            rows.Add($"t{i}.png,beluga,id{i / 2}");
        }
        for (int i = 0; i < 2; i++) File.WriteAllBytes(Path.Combine(root, "test_images", $"q{i}.png"), FolderSourceTests.Png(50 + i));
        File.WriteAllText(Path.Combine(root, "train.csv"), trainCsv ?? string.Join('\n', rows) + "\n");
        repo.Write("k.yaml", KaggleExperiment);
        return root;
    }

    /// <summary>The good train.csv of <see cref="Kaggle"/> with <paramref name="extra"/> lines appended.</summary>
    public static string TrainCsvWith(params string[] extra) =>
        string.Join('\n', new[] { "image,species,individual_id" }.Concat(Enumerable.Range(0, 8).Select(i => $"t{i}.png,beluga,id{i / 2}")).Concat(extra)) + "\n";

    public const string FolderExperiment = """
        data:
          source: folder
          root: data
        prepare:
          image_size: 16
        """;

    /// <summary>A folder-source tree at data/: species sp, individuals a..d with three images each.</summary>
    public static string Folder(TestRepository repo)
    {
        string root = Path.Combine(repo.Root, "data");
        int seed = 0;
        foreach (var id in new[] { "a", "b", "c", "d" })
            for (int i = 0; i < 3; i++)
            {
                string path = Path.Combine(root, "sp", id, $"{i}.png");
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllBytes(path, FolderSourceTests.Png(seed++));
            }
        repo.Write("f.yaml", FolderExperiment);
        return root;
    }
}
