using HappyWhale.Data;
using HappyWhale.Experiments;

namespace HappyWhale.Pipeline;

public static class DataSourceResolver
{
    public const string DataRootVariable = "HAPPYWHALE_DATA";

    /// <summary>The Kaggle-layout folder named by data.root or $HAPPYWHALE_DATA, checked before any stage runs.</summary>
    public static KaggleSource Kaggle(DataSpec data, string repoRoot)
    {
        string? root = data.Root ?? Environment.GetEnvironmentVariable(DataRootVariable);
        if (string.IsNullOrWhiteSpace(root))
            throw new UserException(
                $"data.source is kaggle but no data folder is set. Set data.root (or ${DataRootVariable}) to the competition folder " +
                "holding train.csv, train_images/ and test_images/. Get it with: kaggle competitions download -c happy-whale-and-dolphin. " +
                "To try this experiment on a CPU with the synthetic set instead, add --overlay=cpu.");
        root = RepoPath.Resolve(root, repoRoot);
        var source = new KaggleSource(root);
        if (!File.Exists(source.TrainCsv) || !Directory.Exists(source.TrainImagesDir))
            throw new UserException(
                $"{root} is not a Kaggle Happywhale folder: expected {source.TrainCsv} and {source.TrainImagesDir}/. " +
                "Get the data with: kaggle competitions download -c happy-whale-and-dolphin, unzip it there, or point data.root elsewhere; " +
                "to try the experiment on a CPU with the synthetic set instead, add --overlay=cpu.");
        return source;
    }

    /// <summary>Folder-source roots that do not exist here (e.g. Omniglot on a machine without shared/): empty when all are present.</summary>
    public static IReadOnlyList<string> MissingFolderRoots(DataSpec data, string repoRoot) =>
        data.Source != DataSource.Folder ? [] : FolderRoots(data, repoRoot).Where(r => !Exists(r.Full)).Select(r => r.Full).ToList();

    /// <summary>
    /// The folder source's roots (data.root then data.roots, relative to the repository), each checked
    /// before any stage runs: a folder of &lt;species&gt;/&lt;individual&gt;/&lt;image&gt;, a folder holding .zip files, or a .zip.
    /// </summary>
    public static FolderSource Folder(DataSpec data, string repoRoot)
    {
        var given = FolderRoots(data, repoRoot);
        if (given.Count == 0)
            throw new UserException("data.source is folder but data.root is not set. Set data.root to a folder laid out as " +
                                    "<species>/<individual>/<image>, a folder holding .zip files with that layout, or a .zip file.");
        foreach (var (root, full) in given)
        {
            if (!Exists(full))
            {
                string hint = full.Contains("omniglot", StringComparison.OrdinalIgnoreCase)
                    ? " For Omniglot, put images_background_small1.zip and images_background_small2.zip (from https://github.com/brendenlake/omniglot, python/) " +
                      "in that folder, next to the repository: the experiment reads them in place."
                    : "";
                throw new UserException($"data folder not found: expected {full} (data.root '{root}', relative to the repository {repoRoot}). " +
                                        "Put the images there as <species>/<individual>/<image> (loose or in .zip files) or point data.root elsewhere." + hint);
            }
        }
        return new FolderSource(given.Select(r => r.Full).ToList(), data.QueryShare, data.NewIndividualShare, data.Seed, data.MaxZipEntryBytes);
    }

    /// <summary>data.root then data.roots, as given and resolved against the repository.</summary>
    static List<(string Given, string Full)> FolderRoots(DataSpec data, string repoRoot) =>
        (data.Root is null ? Array.Empty<string>() : [data.Root]).Concat(data.Roots).Select(r => (r, RepoPath.Resolve(r, repoRoot))).ToList();

    static bool Exists(string path) => Directory.Exists(path) || File.Exists(path);
}
