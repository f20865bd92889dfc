using System.Security.Cryptography;
using System.Text;

namespace HappyWhale.Tracking;

/// <summary>
/// A cross-process lock for one store root, held while an experiment is looked up and created, so two
/// trainers starting at once with the same experiment name end up sharing one experiment.
/// It is an OS file lock (FileShare.None, which .NET maps to flock on Unix), so a crashed holder releases it.
/// The lock file lives in the temp folder, not in the store: MLflow's layout has no lock file, and we add nothing to it.
/// </summary>
internal sealed class StoreLock : IDisposable
{
    private readonly FileStream _stream;

    private StoreLock(FileStream stream) => _stream = stream;

    public static StoreLock Acquire(string storeRoot, TimeSpan timeout)
    {
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(storeRoot))))[..16].ToLowerInvariant();
        var lockPath = Path.Combine(Path.GetTempPath(), $"happywhale-mlruns-{key}.lock");
        var deadline = DateTime.UtcNow + timeout;
        var delay = 5;
        while (true)
        {
            try
            {
                return new StoreLock(new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(Random.Shared.Next(delay, delay * 2));
                delay = Math.Min(delay * 2, 100);
            }
            catch (IOException e)
            {
                throw new TimeoutException($"Timed out waiting for the tracking store lock '{lockPath}' for '{storeRoot}'.", e);
            }
        }
    }

    public void Dispose() => _stream.Dispose();
}
