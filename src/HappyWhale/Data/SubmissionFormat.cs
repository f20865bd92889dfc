namespace HappyWhale.Data;

/// <summary>
/// The competition's submission layout. Here, under Data, because the synthetic generator writes a sample
/// submission in it and evaluation writes every submission in it.
/// </summary>
public static class SubmissionFormat
{
    public const string Header = "image,predictions";
}
