using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using HappyWhale.Tests.Data;
using HappyWhale.Tests.EndToEnd;
using static HappyWhale.Tests.BadInputs.Catalogue;

namespace HappyWhale.Tests.BadInputs;

/// <summary>Bad folder-source data: zips that inflate too far, corrupt archives, symlink loops and names that break a CSV row.</summary>
public class FolderInputTests
{
    /// <summary>data/z.zip with the good layout of <see cref="Catalogue.Folder"/> plus one more entry sp/a/extra.png holding <paramref name="extra"/>.</summary>
    static string ZipWith(TestRepository repo, byte[] extra)
    {
        string root = Path.Combine(repo.Root, "data");
        Directory.CreateDirectory(root);
        string path = Path.Combine(root, "z.zip");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            int seed = 0;
            foreach (var id in new[] { "a", "b", "c", "d" })
                for (int i = 0; i < 3; i++)
                    using (var s = zip.CreateEntry($"sp/{id}/{i}.png").Open()) s.Write(FolderSourceTests.Png(seed++));
            using (var s = zip.CreateEntry("sp/a/extra.png", CompressionLevel.Optimal).Open()) s.Write(extra);
        }
        repo.Write("f.yaml", FolderExperiment);
        return path;
    }

    [Fact]
    public void A_zip_entry_declaring_more_than_max_zip_entry_bytes_is_refused_before_it_is_inflated()
    {
        using var repo = Repository();
        ZipWith(repo, new byte[200_000]);   // a few hundred bytes compressed
        AssertRefused(repo, ["prepare", "--exp", "f", "--set", "data.max_zip_entry_bytes=100000"],
            ["z.zip:sp/a/extra.png: zip entry declares 200,000 bytes, above data.max_zip_entry_bytes = 100,000"]);
    }

    [Fact]
    public void A_zip_entry_inflating_beyond_its_declared_size_is_refused()
    {
        using var repo = Repository();
        string path = ZipWith(repo, new byte[200_000]);
        // Both headers claim 100 bytes; the deflate stream still holds 200,000.
        var bytes = File.ReadAllBytes(path);
        var name = Encoding.ASCII.GetBytes("sp/a/extra.png");
        int patched = 0;
        for (int i = 0; i + 46 < bytes.Length; i++)
        {
            uint signature = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(i));
            if (signature == 0x04034b50 && bytes.AsSpan(i + 30, name.Length).SequenceEqual(name)) { BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i + 22), 100); patched++; }
            if (signature == 0x02014b50 && bytes.AsSpan(i + 46, name.Length).SequenceEqual(name)) { BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i + 24), 100); patched++; }
        }
        Assert.Equal(2, patched);
        File.WriteAllBytes(path, bytes);
        // .NET's reader stops at the declared size (and FolderSource would refuse more), so the entry is 100 bytes that are no image.
        AssertRefused(repo, ["prepare", "--exp", "f"], ["z.zip:sp/a/extra.png: not an image"]);
    }

    [Fact]
    public void A_zip_entry_with_corrupt_compressed_data_is_named()
    {
        using var repo = Repository();
        string path = ZipWith(repo, new byte[50_000]);
        var bytes = File.ReadAllBytes(path);
        var name = Encoding.ASCII.GetBytes("sp/a/extra.png");
        int local = Enumerable.Range(0, bytes.Length - 30).First(i => BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(i)) == 0x04034b50
                                                                       && bytes.AsSpan(i + 30, name.Length).SequenceEqual(name));
        int data = local + 30 + name.Length + BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(local + 28));
        for (int i = data + 2; i < data + 40; i++) bytes[i] ^= 0x5A;
        File.WriteAllBytes(path, bytes);
        AssertRefused(repo, ["prepare", "--exp", "f"], ["z.zip:sp/a/extra.png: cannot inflate the zip entry, the archive is corrupt"]);
    }

    [Fact]
    public void A_file_that_is_not_a_zip_is_named()
    {
        using var repo = Repository();
        Folder(repo);
        File.WriteAllText(Path.Combine(repo.Root, "data", "broken.zip"), "not a zip at all");
        AssertRefused(repo, ["prepare", "--exp", "f"], ["broken.zip: not a readable zip archive"]);
    }

    [Fact]
    public void Two_links_back_up_stop_at_once_with_a_short_symlink_loop_message()
    {
        if (OperatingSystem.IsWindows()) return;
        using var repo = Repository();
        string root = Folder(repo);
        Directory.CreateSymbolicLink(Path.Combine(root, "sp", "a", "loopA"), "..");
        Directory.CreateSymbolicLink(Path.Combine(root, "sp", "a", "loopB"), "..");
        var output = AssertRefused(repo, ["prepare", "--exp", "f"], ["symlink loop: sp/a/loopA -> ..", "symlink loop: sp/a/loopB -> ..", "Remove these links"]);
        Assert.True(output.Length < 2000, $"{output.Length} characters:\n{output}");
    }

    [Fact]
    public void A_file_name_with_a_line_break_is_refused_not_cached()
    {
        if (OperatingSystem.IsWindows()) return;
        using var repo = Repository();
        string root = Folder(repo);
        File.WriteAllBytes(Path.Combine(root, "sp", "a", "two\nlines.png"), FolderSourceTests.Png(90));
        AssertRefused(repo, ["prepare", "--exp", "f"], ["two\\nlines.png: a line break in the path", "rename it"]);
    }

    [Fact]
    public void A_file_name_with_a_comma_is_refused() 
    {
        using var repo = Repository();
        string root = Folder(repo);
        File.WriteAllBytes(Path.Combine(root, "sp", "a", "x,y.png"), FolderSourceTests.Png(91));
        AssertRefused(repo, ["prepare", "--exp", "f"], ["x,y.png: a comma in the path"]);
    }

    [Fact]
    public void An_individual_folder_with_a_space_is_refused()
    {
        using var repo = Repository();
        string root = Folder(repo);
        Directory.CreateDirectory(Path.Combine(root, "sp", "big fin"));
        File.WriteAllBytes(Path.Combine(root, "sp", "big fin", "0.png"), FolderSourceTests.Png(92));
        AssertRefused(repo, ["prepare", "--exp", "f"], ["big fin/0.png: whitespace in the path"]);
    }

    [Fact]
    public void A_folder_without_images_says_what_layout_it_expected()
    {
        using var repo = Repository();
        Directory.CreateDirectory(Path.Combine(repo.Root, "data", "empty"));
        repo.Write("f.yaml", FolderExperiment);
        AssertRefused(repo, ["prepare", "--exp", "f"], ["no training images in", "<species>/<individual>/<image>"]);
    }

    [Fact]
    public void A_missing_folder_root_says_where_it_was_expected()
    {
        using var repo = Repository();
        repo.Write("f.yaml", FolderExperiment);
        AssertRefused(repo, ["prepare", "--exp", "f"], ["data folder not found", "data.root 'data'"]);
    }
}
