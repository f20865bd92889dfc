using HappyWhale.Data;
using HappyWhale.Experiments;

namespace HappyWhale.Pipeline;

/// <summary>Where an experiment's images come from, and the fingerprint that keys what is prepared from them.</summary>
public sealed record ResolvedSource(KaggleSource Source, string Fingerprint);

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
                "To try the pipeline without it, use the synthetic set (data.source: synthetic).");
        root = Path.GetFullPath(Path.IsPathRooted(root) ? root : Path.Combine(repoRoot, root));
        var source = new KaggleSource(root);
        if (!File.Exists(source.TrainCsv) || !Directory.Exists(source.TrainImagesDir))
            throw new UserException(
                $"{root} is not a Kaggle Happywhale folder: expected {source.TrainCsv} and {source.TrainImagesDir}/. " +
                "Get the data with: kaggle competitions download -c happy-whale-and-dolphin, unzip it there, or point data.root elsewhere.");
        return root;
    }
}
