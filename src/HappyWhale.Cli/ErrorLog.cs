using HappyWhale.Tracking;

namespace HappyWhale.Cli;

/// <summary>Writes an unexpected exception's full detail to artifacts/logs, for a bug report (MLflow credentials masked).</summary>
static class ErrorLog
{
    public static string Write(Exception e)
    {
        try
        {
            string folder = Path.Combine(Environment.CurrentDirectory, "artifacts", "logs");
            Directory.CreateDirectory(folder);
            string path = Path.Combine(folder, $"error-{DateTime.UtcNow:yyyyMMdd-HHmmss}.txt");
            File.WriteAllText(path, CredentialScrubber.FromEnvironment().Scrub(e.ToString()));
            return path;
        }
        catch (IOException) { return "(could not write the error log)"; }
    }
}
