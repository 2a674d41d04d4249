// MSBuild inline task (RoslynCodeTaskFactory, Type="Class"): copies an ELF64 shared library and marks
// selected version-needed entries (.gnu.version_r) WEAK, so the dynamic loader accepts a system
// libstdc++ that lacks a version whose only symbol is never called. See ../../docs/libtorch.md.
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class WeakenElfVersionNeeds : Task
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlagWeak = 0x2;

    [Required]
    public string SourceFile { get; set; } = "";

    [Required]
    public string DestinationFile { get; set; } = "";

    /// <summary>Semicolon-separated version names, e.g. GLIBCXX_3.4.32.</summary>
    [Required]
    public string Versions { get; set; } = "";

    public override bool Execute()
    {
        byte[] elf = File.ReadAllBytes(SourceFile);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F' || elf[4] != 2 || elf[5] != 1)
        {
            Log.LogError("DSG0901: {0} is not a little-endian ELF64 file.", SourceFile);
            return false;
        }

        string[] wanted = Versions.Split(new[] { ';' }, StringSplitOptions.RemoveEmptyEntries);
        long shoff = BitConverter.ToInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A);
        int shnum = BitConverter.ToUInt16(elf, 0x3C);
        int patched = 0;
        for (int s = 0; s < shnum; s++)
        {
            long sh = shoff + (long)s * shentsize;
            if (BitConverter.ToUInt32(elf, (int)sh + 4) != ShtGnuVerneed)
            {
                continue;
            }

            long offset = BitConverter.ToInt64(elf, (int)sh + 0x18);
            int link = (int)BitConverter.ToUInt32(elf, (int)sh + 0x28);
            int count = (int)BitConverter.ToUInt32(elf, (int)sh + 0x2C);
            long strtab = BitConverter.ToInt64(elf, (int)(shoff + (long)link * shentsize) + 0x18);
            long need = offset;
            for (int n = 0; n < count; n++)
            {
                int auxCount = BitConverter.ToUInt16(elf, (int)need + 2);
                long aux = need + BitConverter.ToUInt32(elf, (int)need + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    string name = ReadCString(elf, strtab + BitConverter.ToUInt32(elf, (int)aux + 8));
                    if (Array.IndexOf(wanted, name) >= 0)
                    {
                        ushort flags = BitConverter.ToUInt16(elf, (int)aux + 4);
                        flags |= VerFlagWeak;
                        elf[aux + 4] = (byte)(flags & 0xff);
                        elf[aux + 5] = (byte)(flags >> 8);
                        patched++;
                    }

                    aux += BitConverter.ToUInt32(elf, (int)aux + 12);
                }

                need += BitConverter.ToUInt32(elf, (int)need + 12);
            }
        }

        Directory.CreateDirectory(Path.GetDirectoryName(DestinationFile)!);
        string temp = DestinationFile + ".tmp";
        File.WriteAllBytes(temp, elf);
        if (File.Exists(DestinationFile))
        {
            File.Delete(DestinationFile);
        }

        File.Move(temp, DestinationFile);
        Log.LogMessage(MessageImportance.Low, "Marked {0} version need(s) weak in {1}", patched, DestinationFile);
        return true;
    }

    private static string ReadCString(byte[] data, long start)
    {
        int end = (int)start;
        while (data[end] != 0)
        {
            end++;
        }

        return Encoding.ASCII.GetString(data, (int)start, end - (int)start);
    }
}
