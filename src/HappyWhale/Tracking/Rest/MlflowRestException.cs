namespace HappyWhale.Tracking;

/// <summary>
/// A failed MLflow REST call. <see cref="IsTransient"/>: the server could not be reached, timed out, or answered
/// 429/5xx after every retry; such records are spooled. The message is already scrubbed of credentials.
/// </summary>
public sealed class MlflowRestException : Exception
{
    public int? StatusCode { get; }
    public string? ErrorCode { get; }
    public bool IsTransient { get; }

    // No inner exception: its message (and its own inner ones) could carry a URI or header we did not scrub.
    public MlflowRestException(string message, int? statusCode, string? errorCode, bool isTransient)
        : base(message)
    {
        StatusCode = statusCode;
        ErrorCode = errorCode;
        IsTransient = isTransient;
    }
}
