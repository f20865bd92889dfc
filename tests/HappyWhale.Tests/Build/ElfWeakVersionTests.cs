using TorchSharp;

namespace HappyWhale.Tests.Build;

public class ElfWeakVersionTests
{
    const string Version = "GLIBCXX_3.4.32";

    static string PackagedLibrary()
    {
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                          ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return Path.Combine(packages, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
    }

    [Fact]
    public void Patching_marks_only_that_requirement_weak_and_is_idempotent()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var tmp = new TempFolder();
        string copy = tmp["libLibTorchSharp.so"];
        File.Copy(PackagedLibrary(), copy);
        byte[] before = File.ReadAllBytes(copy);

        Assert.False(ElfWeakVersion.IsWeak(copy, Version));
        Assert.Equal(ElfWeakVersion.Result.Patched, ElfWeakVersion.MakeWeak(copy, Version));
        Assert.True(ElfWeakVersion.IsWeak(copy, Version));
        Assert.Equal(ElfWeakVersion.Result.AlreadyWeak, ElfWeakVersion.MakeWeak(copy, Version));

        byte[] after = File.ReadAllBytes(copy);
        Assert.Equal(before.Length, after.Length);
        Assert.Single(Enumerable.Range(0, before.Length), i => before[i] != after[i]);
        Assert.False(ElfWeakVersion.IsWeak(copy, "GLIBCXX_3.4.9"));
    }

    [Fact]
    public void Non_elf_and_unrelated_versions_are_left_alone()
    {
        using var tmp = new TempFolder();
        File.WriteAllText(tmp["notes.txt"], "not an ELF file");
        Assert.Equal(ElfWeakVersion.Result.NotElf, ElfWeakVersion.MakeWeak(tmp["notes.txt"], Version));
        if (!OperatingSystem.IsLinux()) return;
        File.Copy(PackagedLibrary(), tmp["lib.so"]);
        Assert.Equal(ElfWeakVersion.Result.NotRequired, ElfWeakVersion.MakeWeak(tmp["lib.so"], "GLIBCXX_9.9.99"));
    }

    [Fact]
    public void The_built_copy_loads_on_this_machine()
    {
        if (!OperatingSystem.IsLinux()) return;
        string systemLib = "/usr/lib/x86_64-linux-gnu/libstdc++.so.6";
        string builtCopy = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        if (File.Exists(systemLib) && !ElfWeakVersion.ProvidesVersion(systemLib, Version))
            Assert.True(ElfWeakVersion.IsWeak(builtCopy, Version), "the build should have weakened the copy in the output folder");
        Assert.False(ElfWeakVersion.IsWeak(PackagedLibrary(), Version), "the NuGet cache must never be patched");
        using var t = torch.ones(2, 2);
        Assert.Equal(4f, t.sum().item<float>());
    }
}
