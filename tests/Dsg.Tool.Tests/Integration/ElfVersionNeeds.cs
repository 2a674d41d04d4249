using System.Buffers.Binary;
using System.Text;

namespace Dsg.Tool.Tests.Integration;

/// <summary>Reads the version-needed entries (<c>.gnu.version_r</c>) of an ELF64 little-endian file, like <c>readelf -V</c>.</summary>
internal static class ElfVersionNeeds
{
    private const uint SectionTypeVersionNeeded = 0x6ffffffe;

    /// <summary>Version name to its flags (2 = VER_FLG_WEAK).</summary>
    public static IReadOnlyDictionary<string, ushort> Read(string path)
    {
        var elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[4] != 2 || elf[5] != 1)
        {
            throw new InvalidDataException($"{path} is not a 64-bit little-endian ELF file.");
        }

        long sectionHeaders = (long)BinaryPrimitives.ReadUInt64LittleEndian(elf.AsSpan(0x28));
        int entrySize = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(0x3A));
        int count = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(0x3C));
        var needs = new Dictionary<string, ushort>(StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            var header = elf.AsSpan((int)(sectionHeaders + (i * entrySize)), entrySize);
            if (BinaryPrimitives.ReadUInt32LittleEndian(header[4..]) != SectionTypeVersionNeeded)
            {
                continue;
            }

            long offset = (long)BinaryPrimitives.ReadUInt64LittleEndian(header[0x18..]);
            int link = (int)BinaryPrimitives.ReadUInt32LittleEndian(header[0x28..]);
            int entries = (int)BinaryPrimitives.ReadUInt32LittleEndian(header[0x2C..]);
            var strings = elf.AsSpan((int)(sectionHeaders + (link * entrySize)), entrySize);
            long stringsOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(strings[0x18..]);
            long need = offset;
            for (int n = 0; n < entries; n++)
            {
                int auxCount = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan((int)need + 2));
                long aux = need + BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan((int)need + 8));
                for (int a = 0; a < auxCount; a++)
                {
                    ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan((int)aux + 4));
                    long name = stringsOffset + BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan((int)aux + 8));
                    int end = Array.IndexOf(elf, (byte)0, (int)name);
                    needs[Encoding.ASCII.GetString(elf, (int)name, end - (int)name)] = flags;
                    aux += BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan((int)aux + 12));
                }

                need += BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan((int)need + 12));
            }
        }

        return needs;
    }
}
