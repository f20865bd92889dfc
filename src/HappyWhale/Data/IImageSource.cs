namespace HappyWhale.Data;

/// <summary>
/// One image a source offers: its labels (blank for unlabelled test images), its subset ("train" =
/// labelled training image, "test" = query), where it lives (for messages), the CSV line that listed
/// it if any, and how to open it.
/// </summary>
public sealed record SourceImage(Sample Sample, string Subset, string Location, Func<Stream> Open, int? ListedOnLine = null);

/// <summary>Every image of a source in preparation order, and the problems found while listing them (bad CSV rows...).</summary>
public sealed record SourceListing(IReadOnlyList<SourceImage> Images, IReadOnlyList<BadItem> Problems, IReadOnlyDictionary<string, int> Counts);

/// <summary>
/// Where an experiment's images come from (data.source): kaggle (<see cref="KaggleSource"/>), synthetic
/// (the synth stage's output, read as kaggle) and folder (<see cref="FolderSource"/>).
/// </summary>
public interface IImageSource
{
    /// <summary>The folder(s) or archive(s) read, for messages.</summary>
    string Description { get; }

    /// <summary>Identifies the contents: equal fingerprints mean equal prepared output.</summary>
    string Fingerprint { get; }

    /// <summary>Training images first (subset train), then the test/query images (subset test).</summary>
    SourceListing List();

    /// <summary>Ground truth of the test images, or null when the source has none (real Kaggle data).</summary>
    IReadOnlyList<Sample>? ReadTestLabels();

    /// <summary>The competition's sample_submission.csv when the source has one.</summary>
    string? SampleSubmissionPath { get; }

    /// <summary>A file next to the images named relative to the data root (box CSVs), or null if absent.</summary>
    string? DataFile(string relativePath);
}
