using HappyWhale.Data;
using HappyWhale.Experiments;

namespace HappyWhale.Pipeline;

/// <summary>Where an experiment's images come from, and the fingerprint that keys what is prepared from them.</summary>
public sealed record ResolvedSource(IImageSource Source, string Fingerprint);

public static class DataSourceResolver
{
    public const string DataRootVariable = "HAPPYWHALE_DATA";

    /// <summary>The Kaggle-layout folder named by data.root or $HAPPYWHALE_DATA, checked before any stage runs.</summary>
    public static string KaggleRoot(DataSpec data, string repoRoot)
    {
        string? root = data.Root ?? Environment.GetEnvironmentVariable(DataRootVariable);
        if (string.IsNullOrWhiteSpace(root))
            throw new UserException(
                $"data.source is kaggle but no data folder is set. Set data.root (or ${DataRootVariable}) to the competition folder " +
                "holding train.csv, train_images/ and test_images/. Get it with: kaggle competitions download -c happy-whale-and-dolphin. " +
                "To try this experiment on a CPU with the synthetic set instead, add --overlay=cpu.");
        root = Path.GetFullPath(Path.IsPathRooted(root) ? root : Path.Combine(repoRoot, root));
        var source = new KaggleSource(root);
        if (!File.Exists(source.TrainCsv) || !Directory.Exists(source.TrainImagesDir))
            throw new UserException(
                $"{root} is not a Kaggle Happywhale folder: expected {source.TrainCsv} and {source.TrainImagesDir}/. " +
                "Get the data with: kaggle competitions download -c happy-whale-and-dolphin, unzip it there, or point data.root elsewhere; " +
                "to try the experiment on a CPU with the synthetic set instead, add --overlay=cpu.");
        return root;
    }

    /// <summary>Folder-source roots that do not exist here (e.g. Omniglot on a machine without shared/): empty when all are present.</summary>
    public static IReadOnlyList<string> MissingFolderRoots(DataSpec data, string repoRoot) =>
        data.Source != "folder" ? [] :
        (data.Root is null ? Array.Empty<string>() : [data.Root]).Concat(data.Roots)
            .Select(r => Path.GetFullPath(Path.IsPathRooted(r) ? r : Path.Combine(repoRoot, r)))
            .Where(full => !Directory.Exists(full) && !File.Exists(full)).ToList();

    /// <summary>
    /// The folder source's roots (data.root then data.roots, relative to the repository), each checked
    /// before any stage runs: a folder of &lt;species&gt;/&lt;individual&gt;/&lt;image&gt;, a folder holding .zip files, or a .zip.
    /// </summary>
    public static FolderSource Folder(DataSpec data, string repoRoot)
    {
        var given = (data.Root is null ? Array.Empty<string>() : [data.Root]).Concat(data.Roots).ToList();
        if (given.Count == 0)
            throw new UserException("data.source is folder but data.root is not set. Set data.root to a folder laid out as " +
                                    "<species>/<individual>/<image>, a folder holding .zip files with that layout, or a .zip file.");
        var roots = new List<string>();
        foreach (var root in given)
        {
            string full = Path.GetFullPath(Path.IsPathRooted(root) ? root : Path.Combine(repoRoot, root));
            if (!Directory.Exists(full) && !File.Exists(full))
            {
                string hint = full.Contains("omniglot", StringComparison.OrdinalIgnoreCase)
                    ? " For Omniglot, put images_background_small1.zip and images_background_small2.zip (from https://github.com/brendenlake/omniglot, python/) " +
                      "in that folder, next to the repository: the experiment reads them in place."
                    : "";
                throw new UserException($"data folder not found: expected {full} (data.root '{root}', relative to the repository {repoRoot}). " +
                                        "Put the images there as <species>/<individual>/<image> (loose or in .zip files) or point data.root elsewhere." + hint);
            }
            roots.Add(full);
        }
        return new FolderSource(roots, data.QueryShare, data.NewIndividualShare, data.Seed);
    }
}
