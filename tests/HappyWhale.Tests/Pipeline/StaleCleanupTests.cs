using HappyWhale.Pipeline;

namespace HappyWhale.Tests.Pipeline;

/// <summary>What killed runs leave in the cache is cleared at the start of a run, except what a live process still holds.</summary>
public class StaleCleanupTests
{
    static readonly string KeyA = new('a', 64), KeyB = new('b', 64), KeyC = new('c', 64);

    static string Folder(string parent, string name, DateTime lastWrite)
    {
        string path = Path.Combine(parent, name);
        Directory.CreateDirectory(path);
        File.WriteAllText(Path.Combine(path, "partial.bin"), "x");
        Directory.SetLastWriteTimeUtc(path, lastWrite);
        return path;
    }

    [Fact]
    public void Old_temporaries_and_orphaned_locks_go_while_recent_or_held_ones_stay()
    {
        using var tmp = new TempFolder();
        string stage = tmp.Combine("cache", "train");
        var twoDaysAgo = DateTime.UtcNow.AddDays(-2);
        string oldTmp = Folder(stage, $".tmp-{KeyA}-123-{Guid.NewGuid():N}", twoDaysAgo);
        string oldSetAside = Folder(stage, $".old-{KeyA}-{Guid.NewGuid():N}", twoDaysAgo);
        string recentTmp = Folder(stage, $".tmp-{KeyB}-456-{Guid.NewGuid():N}", DateTime.UtcNow.AddHours(-1));
        string heldTmp = Folder(stage, $".tmp-{KeyC}-789-{Guid.NewGuid():N}", twoDaysAgo);
        string work = Folder(stage, ".work-" + KeyA, twoDaysAgo);     // a checkpoint to resume from: not a temporary
        string orphanLock = Path.Combine(stage, KeyB + ".lock");
        File.WriteAllText(orphanLock, "");

        using (var held = FileLock.TryAcquire(Path.Combine(stage, KeyC + ".lock")))
        {
            Assert.NotNull(held);   // as if a live run were computing key C
            new StageCache(tmp.Combine("cache")).RemoveStale();
        }

        Assert.False(Directory.Exists(oldTmp));
        Assert.False(Directory.Exists(oldSetAside));
        Assert.False(File.Exists(orphanLock));
        Assert.True(Directory.Exists(recentTmp));
        Assert.True(Directory.Exists(heldTmp));
        Assert.True(Directory.Exists(work));
        Assert.False(File.Exists(Path.Combine(stage, KeyC + ".lock")));   // its holder deleted it on release
    }

    [Fact]
    public void A_released_lock_leaves_no_file_and_a_held_one_cannot_be_taken_or_swept()
    {
        using var tmp = new TempFolder();
        string path = tmp["k.lock"];
        using (var held = FileLock.TryAcquire(path))
        {
            Assert.NotNull(held);
            Assert.Null(FileLock.TryAcquire(path));
            Assert.Equal(0, FileLock.RemoveOrphans([path]));
            Assert.True(File.Exists(path));
        }
        Assert.False(File.Exists(path));
        using var again = FileLock.TryAcquire(path);
        Assert.NotNull(again);
    }

    [Fact]
    public void A_lock_on_a_file_its_path_no_longer_names_does_not_count()
    {
        if (OperatingSystem.IsWindows()) return;
        using var tmp = new TempFolder();
        string path = tmp["k.lock"];
        // A waiter opened the file just before its holder deleted it; a third process then created a new one.
        // Locking the old file would give two holders, so that lock must not count.
        File.WriteAllText(path, "");
        using var stale = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        File.Delete(path);
        Assert.False(FileLock.IsNamedBy(path, stale));
        File.WriteAllText(path, "");
        Assert.False(FileLock.IsNamedBy(path, stale));
        using var current = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        Assert.True(FileLock.IsNamedBy(path, current));
        Assert.False(FileLock.IsNamedBy(path, stale));
    }
}
