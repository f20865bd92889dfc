// Makes one symbol-version requirement of an ELF shared library weak, so the dynamic loader
// accepts the library on a system whose libstdc++ lacks that version. TorchSharp 0.107.0's
// libLibTorchSharp.so asks for GLIBCXX_3.4.32 for a single symbol it never calls; Debian 12
// ships 3.4.30. Compiled twice: as an MSBuild inline task (see Directory.Build.targets) and
// into the tests (with NO_MSBUILD_TASK), so the patch the build applies is the patch tested.
using System;
using System.IO;
using System.Text;

public static class ElfWeakVersion
{
    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlagWeak = 0x2;

    /// <summary>Outcome of one patch attempt, for the build log.</summary>
    public enum Result { Patched, AlreadyWeak, NotRequired, NotElf }

    /// <summary>Sets VER_FLG_WEAK on the .gnu.version_r entry naming <paramref name="version"/>.</summary>
    public static Result MakeWeak(string path, string version)
    {
        byte[] elf = File.ReadAllBytes(path);
        int? flagsOffset = FindRequirementFlags(elf, version);
        if (flagsOffset is null) return elf.Length < 64 || elf[0] != 0x7f ? Result.NotElf : Result.NotRequired;
        ushort flags = BitConverter.ToUInt16(elf, flagsOffset.Value);
        if ((flags & VerFlagWeak) != 0) return Result.AlreadyWeak;
        flags |= VerFlagWeak;
        BitConverter.GetBytes(flags).CopyTo(elf, flagsOffset.Value);
        string temp = path + ".weak.tmp";
        File.WriteAllBytes(temp, elf);
        // netstandard (the inline-task compiler) has no Move(overwrite): Copy then delete keeps it portable.
        File.Copy(temp, path, true);
        File.Delete(temp);
        return Result.Patched;
    }

    /// <summary>True when the requirement for <paramref name="version"/> is present and weak.</summary>
    public static bool IsWeak(string path, string version)
    {
        byte[] elf = File.ReadAllBytes(path);
        int? at = FindRequirementFlags(elf, version);
        return at is not null && (BitConverter.ToUInt16(elf, at.Value) & VerFlagWeak) != 0;
    }

    /// <summary>True when a library file defines the version string (e.g. the system libstdc++).</summary>
    public static bool ProvidesVersion(string libraryPath, string version)
    {
        if (!File.Exists(libraryPath)) return false;
        byte[] needle = Encoding.ASCII.GetBytes(version + "\0");
        byte[] hay = File.ReadAllBytes(libraryPath);
        for (int i = 0; i + needle.Length <= hay.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && hay[i + j] == needle[j]) j++;
            if (j == needle.Length && (i == 0 || hay[i - 1] == 0)) return true;
        }
        return false;
    }

    /// <summary>Byte offset of vna_flags of the Vernaux entry named <paramref name="version"/>, or null.</summary>
    static int? FindRequirementFlags(byte[] elf, string version)
    {
        // ELF64 little-endian only: the libraries this is for are x86-64 and arm64 Linux builds.
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F') return null;
        if (elf[4] != 2 || elf[5] != 1) return null;
        long shoff = BitConverter.ToInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A);
        int shnum = BitConverter.ToUInt16(elf, 0x3C);
        for (int s = 0; s < shnum; s++)
        {
            int sh = checked((int)(shoff + (long)s * shentsize));
            if (BitConverter.ToUInt32(elf, sh + 4) != ShtGnuVerneed) continue;
            long offset = BitConverter.ToInt64(elf, sh + 0x18);
            uint link = BitConverter.ToUInt32(elf, sh + 0x28);
            int strtab = checked((int)BitConverter.ToInt64(elf, checked((int)(shoff + (long)link * shentsize)) + 0x18));
            int need = (int)offset;
            while (true)
            {
                ushort count = BitConverter.ToUInt16(elf, need + 2);
                int aux = need + (int)BitConverter.ToUInt32(elf, need + 8);
                for (int a = 0; a < count; a++)
                {
                    uint name = BitConverter.ToUInt32(elf, aux + 8);
                    if (ReadCString(elf, strtab + (int)name) == version) return aux + 4;
                    uint nextAux = BitConverter.ToUInt32(elf, aux + 12);
                    if (nextAux == 0) break;
                    aux += (int)nextAux;
                }
                uint next = BitConverter.ToUInt32(elf, need + 12);
                if (next == 0) break;
                need += (int)next;
            }
        }
        return null;
    }

    static string ReadCString(byte[] data, int at)
    {
        int end = at;
        while (end < data.Length && data[end] != 0) end++;
        return Encoding.ASCII.GetString(data, at, end - at);
    }
}

#if !NO_MSBUILD_TASK
/// <summary>MSBuild task: weakens the version requirement in every given library when the system lacks it.</summary>
public class WeakenElfVersionRequirement : Microsoft.Build.Utilities.Task
{
    [Microsoft.Build.Framework.Required] public string[] Libraries { get; set; } = Array.Empty<string>();
    [Microsoft.Build.Framework.Required] public string Version { get; set; } = "";
    public string[] SystemLibraries { get; set; } = Array.Empty<string>();

    public override bool Execute()
    {
        foreach (string system in SystemLibraries)
            if (ElfWeakVersion.ProvidesVersion(system, Version))
            {
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low, $"{system} provides {Version}; nothing to patch.");
                return true;
            }
        foreach (string library in Libraries)
        {
            var result = ElfWeakVersion.MakeWeak(library, Version);
            Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal, $"{library}: {Version} requirement {result}.");
        }
        return true;
    }
}
#endif
