using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace Dsg.Core.Caching;

/// <summary>
/// A cache entry as the one file the remote cache stores: a gzip-compressed tar whose first member is
/// <c>manifest.json</c> and whose other members are exactly the manifest's files. Reading one back checks it against
/// that manifest as it goes (each file's size and SHA-256, nothing missing, nothing extra, no path outside the
/// entry), so a truncated or altered download is refused before any of it is used.
/// </summary>
public static class EntryArchive
{
    /// <summary>The media type of an archive.</summary>
    public const string MediaType = "application/gzip";

    private const int MaxManifestBytes = 4 << 20;

    /// <summary>Writes the entry in <paramref name="directory"/>, described by <paramref name="manifest"/>, to <paramref name="output"/>.</summary>
    /// <exception cref="IOException">A file cannot be read or the output written.</exception>
    public static void Write(string directory, CacheManifest manifest, Stream output)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        using var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true);
        using var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true);
        AddMember(tar, CacheManifest.FileName, Path.Combine(directory, CacheManifest.FileName), manifest.CreatedUtc);
        foreach (var file in manifest.Files)
        {
            AddMember(tar, file.Name, Path.Combine(directory, file.Name.Replace('/', Path.DirectorySeparatorChar)), manifest.CreatedUtc);
        }
    }

    /// <summary>
    /// Unpacks an archive of entry <paramref name="key"/> into the empty folder <paramref name="directory"/>, checking
    /// every member against the manifest inside it. The folder holds the entry's files and its manifest on return.
    /// </summary>
    /// <param name="input">The archive.</param>
    /// <param name="key">The key the archive was asked for; the manifest must name it.</param>
    /// <param name="directory">An empty folder to unpack into.</param>
    /// <param name="maxBytes">The most the entry's files may hold together (a guard against a manifest that declares too much).</param>
    /// <exception cref="InvalidDataException">The archive is truncated, not an archive, or does not match its manifest; the message says how.</exception>
    /// <exception cref="IOException">The folder cannot be written.</exception>
    public static CacheManifest Extract(Stream input, string key, string directory, long maxBytes)
    {
        using var gzip = new GZipStream(input, CompressionMode.Decompress, leaveOpen: true);
        using var tar = new TarReader(gzip, leaveOpen: false);
        var first = FromArchive(() => tar.GetNextEntry()) ?? throw new InvalidDataException("the archive holds nothing");
        if (first.Name != CacheManifest.FileName || !IsRegularFile(first) || first.Length > MaxManifestBytes)
        {
            throw new InvalidDataException($"the archive does not start with {CacheManifest.FileName}");
        }

        var manifestBytes = new byte[first.Length];
        FromArchive(() => first.DataStream?.ReadAtLeast(manifestBytes, manifestBytes.Length, throwOnEndOfStream: true));
        var manifest = CacheManifest.TryParse(Encoding.UTF8.GetString(manifestBytes))
            ?? throw new InvalidDataException($"its {CacheManifest.FileName} is not a manifest");
        Check(manifest, key, maxBytes);
        File.WriteAllBytes(Path.Combine(directory, CacheManifest.FileName), manifestBytes);

        var expected = manifest.Files.ToDictionary(f => f.Name, StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (FromArchive(() => tar.GetNextEntry()) is { } member)
        {
            if (!IsRegularFile(member) || !expected.TryGetValue(member.Name, out var file) || !seen.Add(member.Name))
            {
                throw new InvalidDataException($"the archive holds '{member.Name}', which its manifest does not list (or lists once)");
            }

            if (member.Length != file.Size)
            {
                throw new InvalidDataException($"{file.Name} has {member.Length} bytes in the archive, the manifest says {file.Size}");
            }

            var path = Path.Combine(directory, file.Name.Replace('/', Path.DirectorySeparatorChar));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var hash = CopyHashed(member.DataStream, path, file.Size, file.Name);
            if (!string.Equals(hash, file.Sha256, StringComparison.Ordinal))
            {
                throw new InvalidDataException($"{file.Name} does not match its SHA-256");
            }
        }

        if (expected.Keys.FirstOrDefault(name => !seen.Contains(name)) is { } missing)
        {
            throw new InvalidDataException($"{missing} is missing from the archive (truncated?)");
        }

        return manifest;
    }

    /// <summary>Checks a manifest from the remote before trusting its names and sizes.</summary>
    private static void Check(CacheManifest manifest, string key, long maxBytes)
    {
        if (manifest.Key != key)
        {
            throw new InvalidDataException($"its manifest names key {manifest.Key}");
        }

        long total = 0;
        foreach (var file in manifest.Files)
        {
            if (!IsSafeName(file.Name))
            {
                throw new InvalidDataException($"its manifest lists '{file.Name}', which is not a plain relative path inside the entry");
            }

            if (file.Size < 0 || file.Sha256.Length != 64)
            {
                throw new InvalidDataException($"its manifest's line for {file.Name} is malformed");
            }

            total += file.Size;
            if (total > maxBytes)
            {
                throw new InvalidDataException($"its manifest declares more than the cache size limit ({ByteSize.Format(maxBytes)})");
            }
        }

        if (manifest.Files.Select(f => f.Name).Distinct(StringComparer.Ordinal).Count() != manifest.Files.Count)
        {
            throw new InvalidDataException("its manifest lists a file twice");
        }
    }

    /// <summary>A relative '/'-separated path without empty, '.' or '..' segments, backslashes or colons, that is not one of the entry's own files.</summary>
    private static bool IsSafeName(string name) =>
        name.Length is > 0 and < 256
        && name is not CacheManifest.FileName and not "last-used"
        && !name.Contains('\\', StringComparison.Ordinal) && !name.Contains(':', StringComparison.Ordinal) && !name.Contains('\0', StringComparison.Ordinal)
        && name.Split('/').All(segment => segment.Length > 0 && segment is not "." and not "..");

    private static bool IsRegularFile(TarEntry entry) => entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile;

    /// <summary>Copies exactly <paramref name="size"/> bytes to <paramref name="path"/> and returns their SHA-256 (hex).</summary>
    private static string CopyHashed(Stream? data, string path, long size, string name)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using (var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
        {
            var buffer = new byte[1 << 16];
            long left = size;
            while (left > 0)
            {
                int count = (int)Math.Min(buffer.Length, left);
                int read = data is null ? 0 : FromArchive(() => data.Read(buffer, 0, count));
                if (read == 0)
                {
                    throw new InvalidDataException($"{name} ends {left} bytes early (truncated)");
                }

                hash.AppendData(buffer, 0, read);
                output.Write(buffer, 0, read);
                left -= read;
            }
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>One read from the archive: a failure there is the archive's fault (not gzip or tar, cut short), never the disk's.</summary>
    private static T FromArchive<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is IOException or FormatException or ArgumentException or InvalidOperationException)
        {
            throw new InvalidDataException($"the archive cannot be read ({e.Message.TrimEnd('.')}; truncated?)", e);
        }
    }

    private static void AddMember(TarWriter tar, string name, string path, DateTimeOffset modified)
    {
        using var data = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var entry = new PaxTarEntry(TarEntryType.RegularFile, name)
        {
            DataStream = data,
            ModificationTime = modified,
            Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
        };
        tar.WriteEntry(entry);
    }
}
