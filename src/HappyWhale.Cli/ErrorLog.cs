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
            // Two failures in the same second (parallel runs, a retry loop) each keep their own log.
            string path = Path.Combine(folder, $"error-{DateTime.UtcNow:yyyyMMdd-HHmmss-fff}-{Environment.ProcessId}.txt");
            using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
            using (var writer = new StreamWriter(file)) writer.Write(CredentialScrubber.FromEnvironment().Scrub(e.ToString()));
            return path;
        }
        catch (IOException) { return "(could not write the error log)"; }
    }
}
