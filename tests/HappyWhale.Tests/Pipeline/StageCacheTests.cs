using System.Text.Json.Nodes;
using HappyWhale.Pipeline;

namespace HappyWhale.Tests.Pipeline;

public class StageCacheTests
{
    static StageRequest Request(double lr = 0.001, string input = "abc") => new(
        "train", 1, new JsonObject { ["lr"] = lr, ["epochs"] = 2 },
        new Dictionary<string, string> { ["prepare"] = input }, new Dictionary<string, string>());

    static JsonObject WriteOutput(string folder, string text = "weights")
    {
        File.WriteAllText(Path.Combine(folder, "model.bin"), text);
        Directory.CreateDirectory(Path.Combine(folder, "sub"));
        File.WriteAllText(Path.Combine(folder, "sub", "history.json"), "[]");
        return new JsonObject { ["epochs"] = 2 };
    }

    [Fact]
    public void Miss_then_hit_computes_once()
    {
        using var tmp = new TempFolder();
        var cache = new StageCache(tmp.Path);
        int calls = 0;
        var first = cache.GetOrCompute(Request(), f => { calls++; return WriteOutput(f); });
        var second = cache.GetOrCompute(Request(), f => { calls++; return WriteOutput(f); });
        Assert.Equal(1, calls);
        Assert.Equal(CacheOutcome.Computed, first.Outcome);
        Assert.Equal(CacheOutcome.Hit, second.Outcome);
        Assert.Equal(first.Folder, second.Folder);
        Assert.Equal(Path.Combine(tmp.Path, "train", Request().Key), first.Folder);
        var manifest = second.Manifest;
        Assert.Equal(["model.bin", "sub/history.json"], manifest.Files.Select(f => f.Path));
        Assert.Equal(7, manifest.Files[0].Size);
        Assert.Equal(Request().Key, manifest.Key);
    }

    [Fact]
    public void Key_changes_with_parameters_inputs_and_version_but_not_key_order()
    {
        Assert.NotEqual(Request(0.001).Key, Request(0.002).Key);
        Assert.NotEqual(Request(input: "abc").Key, Request(input: "abd").Key);
        Assert.NotEqual(Request().Key, (Request() with { Version = 2 }).Key);
        var reordered = new StageRequest("train", 1, new JsonObject { ["epochs"] = 2, ["lr"] = 1e-3 },
            new Dictionary<string, string> { ["prepare"] = "abc" }, new Dictionary<string, string>());
        Assert.Equal(Request().Key, reordered.Key);
        Assert.Matches("^[0-9a-f]{64}$", Request().Key);
    }

    [Fact]
    public void Force_recomputes_and_replaces_the_entry()
    {
        using var tmp = new TempFolder();
        var cache = new StageCache(tmp.Path);
        cache.GetOrCompute(Request(), f => WriteOutput(f, "old"));
        var forced = cache.GetOrCompute(Request(), f => WriteOutput(f, "new!"), force: true);
        Assert.Equal(CacheOutcome.Computed, forced.Outcome);
        Assert.Equal("new!", File.ReadAllText(Path.Combine(forced.Folder, "model.bin")));
        Assert.Single(Directory.GetDirectories(Path.Combine(tmp.Path, "train")));
    }

    [Fact]
    public void A_failed_computation_leaves_no_entry_and_no_temporary_folder()
    {
        using var tmp = new TempFolder();
        var cache = new StageCache(tmp.Path);
        Assert.Throws<InvalidOperationException>(() => cache.GetOrCompute(Request(), f =>
        {
            File.WriteAllText(Path.Combine(f, "model.bin"), "half");
            throw new InvalidOperationException("boom");
        }));
        Assert.Null(cache.TryGet(Request()));
        Assert.Empty(Directory.GetDirectories(Path.Combine(tmp.Path, "train")));
    }

    [Fact]
    public void What_a_killed_write_leaves_is_never_a_hit_and_is_cleaned_by_the_next_run()
    {
        using var tmp = new TempFolder();
        var cache = new StageCache(tmp.Path);
        // A run killed mid-write leaves its temporary folder (no manifest) and, if killed during the
        // rename of a forced entry, nothing at the final path.
        string stale = Path.Combine(tmp.Path, "train", $".tmp-{Request().Key}-99999-dead");
        Directory.CreateDirectory(stale);
        File.WriteAllText(Path.Combine(stale, "model.bin"), "partial");
        Assert.Null(cache.TryGet(Request()));

        var entry = cache.GetOrCompute(Request(), f => WriteOutput(f));
        Assert.Equal(CacheOutcome.Computed, entry.Outcome);
        Assert.False(Directory.Exists(stale));
    }

    [Fact]
    public void An_entry_whose_files_no_longer_match_the_manifest_is_a_miss()
    {
        using var tmp = new TempFolder();
        var cache = new StageCache(tmp.Path);
        var entry = cache.GetOrCompute(Request(), f => WriteOutput(f));
        File.WriteAllText(Path.Combine(entry.Folder, "model.bin"), "truncated-or-longer");
        Assert.Null(cache.TryGet(Request()));
        File.Delete(Path.Combine(entry.Folder, "model.bin"));
        Assert.Null(cache.TryGet(Request()));
    }

    [Fact]
    public void Same_size_corruption_is_caught_with_hash_verification()
    {
        using var tmp = new TempFolder();
        var entry = new StageCache(tmp.Path).GetOrCompute(Request(), f => WriteOutput(f));
        File.WriteAllText(Path.Combine(entry.Folder, "model.bin"), "WEIGHTS");
        Assert.NotNull(new StageCache(tmp.Path).TryGet(Request()));
        Assert.Null(new StageCache(tmp.Path, verifyHashes: true).TryGet(Request()));
    }

    [Fact]
    public void The_key_lock_is_exclusive_until_released()
    {
        using var tmp = new TempFolder();
        string lockPath = tmp["k.lock"];
        using (StageCache.LockKey(lockPath, TimeSpan.FromSeconds(1)))
        {
            Assert.Throws<IOException>(() => StageCache.LockKey(lockPath, TimeSpan.FromMilliseconds(300)));
        }
        using var again = StageCache.LockKey(lockPath, TimeSpan.FromSeconds(1));
    }
}
