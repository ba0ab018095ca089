using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

// Sets VER_FLG_WEAK on one Vernaux entry (.gnu.version_r) of an ELF64 little-endian shared object.
public class WeakenElfVersionNeed : Task
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlagWeak = 0x2;

    [Required] public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();
    [Required] public string VersionName { get; set; } = "";
    [Required] public string SystemLibraries { get; set; } = "";

    public override bool Execute()
    {
        foreach (var lib in SystemLibraries.Split(new[] { ';' }, StringSplitOptions.RemoveEmptyEntries))
        {
            if (File.Exists(lib) && Contains(File.ReadAllBytes(lib), Encoding.ASCII.GetBytes(VersionName + "\0")))
            {
                Log.LogMessage(MessageImportance.Low, $"{lib} provides {VersionName}; no patch needed.");
                return true;
            }
        }
        foreach (var item in Files)
        {
            var path = item.GetMetadata("FullPath");
            if (path.Contains(Path.DirectorySeparatorChar + ".nuget" + Path.DirectorySeparatorChar))
            {
                Log.LogError($"Refusing to patch {path}: it is inside the NuGet cache.");
                return false;
            }
            try
            {
                var bytes = File.ReadAllBytes(path);
                var result = Weaken(bytes, VersionName);
                if (result == null)
                {
                    Log.LogMessage(MessageImportance.Low, $"{path}: {VersionName} is not required; nothing to do.");
                    continue;
                }
                if (result == false)
                {
                    Log.LogMessage(MessageImportance.Low, $"{path}: {VersionName} already weak.");
                    continue;
                }
                // Write a temp file and rename it over the library: a crash never leaves a half-written
                // library behind, and a library hard-linked to the NuGet cache gets a file of its own
                // instead of writing through the link into the cache.
                var tmp = path + ".weaken.tmp";
                File.Copy(path, tmp, overwrite: true); // a fresh file with the library's permissions
                File.WriteAllBytes(tmp, bytes);
                File.Replace(tmp, path, destinationBackupFileName: null);
                Log.LogMessage(MessageImportance.High, $"Marked {VersionName} weak in {path}");
            }
            catch (Exception e) when (e is IOException || e is InvalidDataException)
            {
                Log.LogError($"Could not patch {path}: {e.Message}");
                return false;
            }
        }
        return !Log.HasLoggedErrors;
    }

    // null: version not needed; false: already weak; true: patched in place in `elf`.
    private static bool? Weaken(byte[] elf, string versionName)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
        {
            throw new InvalidDataException("not an ELF file");
        }
        if (elf[4] != 2 || elf[5] != 1)
        {
            throw new InvalidDataException("only ELF64 little-endian is supported");
        }
        var shoff = (long)BitConverter.ToUInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A);
        int shnum = BitConverter.ToUInt16(elf, 0x3C);
        for (var i = 0; i < shnum; i++)
        {
            var sh = (int)(shoff + (long)i * shentsize);
            if (BitConverter.ToUInt32(elf, sh + 4) != ShtGnuVerneed)
            {
                continue;
            }
            var offset = (int)BitConverter.ToUInt64(elf, sh + 0x18);
            var link = (int)BitConverter.ToUInt32(elf, sh + 0x28);
            var count = (int)BitConverter.ToUInt32(elf, sh + 0x2C);
            var strtab = (int)BitConverter.ToUInt64(elf, (int)(shoff + (long)link * shentsize) + 0x18);
            var need = offset;
            for (var n = 0; n < count; n++)
            {
                int auxCount = BitConverter.ToUInt16(elf, need + 2);
                var aux = need + (int)BitConverter.ToUInt32(elf, need + 8);
                for (var a = 0; a < auxCount; a++)
                {
                    var name = ReadString(elf, strtab + (int)BitConverter.ToUInt32(elf, aux + 8));
                    if (name == versionName)
                    {
                        var flags = BitConverter.ToUInt16(elf, aux + 4);
                        if ((flags & VerFlagWeak) != 0)
                        {
                            return false;
                        }
                        var patched = BitConverter.GetBytes((ushort)(flags | VerFlagWeak));
                        elf[aux + 4] = patched[0];
                        elf[aux + 5] = patched[1];
                        return true;
                    }
                    aux += (int)BitConverter.ToUInt32(elf, aux + 12);
                }
                need += (int)BitConverter.ToUInt32(elf, need + 12);
            }
        }
        return null;
    }

    private static string ReadString(byte[] data, int start)
    {
        var end = start;
        while (data[end] != 0)
        {
            end++;
        }
        return Encoding.ASCII.GetString(data, start, end - start);
    }

    private static bool Contains(byte[] haystack, byte[] needle)
    {
        for (var i = 0; i <= haystack.Length - needle.Length; i++)
        {
            var j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j])
            {
                j++;
            }
            if (j == needle.Length)
            {
                return true;
            }
        }
        return false;
    }
}
