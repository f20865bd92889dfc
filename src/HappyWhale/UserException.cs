namespace HappyWhale;

/// <summary>
/// An error the user can act on (bad experiment file, missing data, bad image). The command line
/// prints its message alone, without a stack trace, and exits non-zero.
/// </summary>
public class UserException(string message, Exception? inner = null) : Exception(message, inner);
