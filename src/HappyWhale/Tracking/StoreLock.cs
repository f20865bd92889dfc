using System.Security.Cryptography;
using System.Text;

namespace HappyWhale.Tracking;

/// <summary>
/// Where the cross-process lock of one store root lives, held while an experiment is looked up and created, so two
/// trainers starting at once with the same experiment name end up sharing one experiment.
/// The lock is a <see cref="FileLock"/> (the one lock there is): a crashed holder releases it, and a released one leaves
/// no file behind. The lock file lives in the temp folder, not in the store: MLflow's layout has no lock file, and we
/// add nothing to it.
/// </summary>
internal static class StoreLock
{
    private static int _orphansRemoved;

    public static FileLock Acquire(string storeRoot, TimeSpan timeout)
    {
        // Lock files of processes killed while holding one; once per process is enough.
        if (Interlocked.Exchange(ref _orphansRemoved, 1) == 0)
            FileLock.RemoveOrphans(Directory.EnumerateFiles(Path.GetTempPath(), "happywhale-mlruns-*.lock"));
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(storeRoot))))[..16].ToLowerInvariant();
        var lockPath = Path.Combine(Path.GetTempPath(), $"happywhale-mlruns-{key}.lock");
        return FileLock.Acquire(lockPath, timeout, TimeSpan.FromMilliseconds(100))
            ?? throw new TimeoutException($"Timed out waiting for the tracking store lock '{lockPath}' for '{storeRoot}'.");
    }
}
