using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Dsg.Core;

/// <summary>What a path names once links are followed: a regular file, a folder or something else (a FIFO, a device, a socket).</summary>
public enum FileNodeKind
{
    /// <summary>A regular file.</summary>
    Regular,

    /// <summary>A folder.</summary>
    Directory,

    /// <summary>A FIFO, a character or block device or a socket: nothing Dsg should open as data.</summary>
    Special,
}

/// <summary>
/// The file system's answer for a path or an open file: its kind, size and identity (device and inode). On Linux it
/// comes from <c>statx</c>, so a FIFO is told from a file before anything opens it, and two paths that reach one
/// file (bind mounts, hard links) have the same identity. Elsewhere the kind comes from .NET (files and folders
/// only) and the identity is unknown (<see cref="HasIdentity"/> false).
/// </summary>
/// <param name="Kind">What the path names.</param>
/// <param name="Size">The size in bytes (0 for folders).</param>
/// <param name="Device">The device id (Linux), 0 when unknown.</param>
/// <param name="Inode">The inode number (Linux), 0 when unknown.</param>
public readonly record struct FileNode(FileNodeKind Kind, long Size, ulong Device, ulong Inode)
{
    private const int AtCurrentDirectory = -100;
    private const int AtEmptyPath = 0x1000;
    private const uint StatxTypeInodeSize = 0x301;
    private const int StatxBufferSize = 256;

    /// <summary>Whether <see cref="Device"/> and <see cref="Inode"/> are known.</summary>
    public bool HasIdentity => Inode != 0;

    /// <summary>Whether both are known to be the same file.</summary>
    public bool SameFileAs(FileNode other) => HasIdentity && other.HasIdentity && Device == other.Device && Inode == other.Inode;

    /// <summary>The node <paramref name="path"/> names (links followed); null when nothing exists there.</summary>
    /// <exception cref="IOException">The path cannot be examined (a permission or I/O error other than "not found").</exception>
    public static FileNode? Of(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (OperatingSystem.IsLinux())
        {
            var buffer = new byte[StatxBufferSize];
            if (Statx(AtCurrentDirectory, path, 0, StatxTypeInodeSize, buffer) == 0)
            {
                return FromStatx(buffer);
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno is 2 or 20)
            {
                // ENOENT, ENOTDIR: nothing there.
                return null;
            }

            throw new IOException($"Cannot examine '{path}': {Marshal.GetPInvokeErrorMessage(errno)}.", errno);
        }

        if (Directory.Exists(path))
        {
            return new FileNode(FileNodeKind.Directory, 0, 0, 0);
        }

        var info = new FileInfo(path);
        return info.Exists ? new FileNode(FileNodeKind.Regular, info.Length, 0, 0) : null;
    }

    /// <summary>The node of an open file (so a check made before opening can be confirmed on what was opened).</summary>
    public static FileNode Of(SafeFileHandle handle, string path)
    {
        ArgumentNullException.ThrowIfNull(handle);
        if (OperatingSystem.IsLinux())
        {
            var buffer = new byte[StatxBufferSize];
            bool added = false;
            try
            {
                handle.DangerousAddRef(ref added);
                if (Statx((int)handle.DangerousGetHandle(), "", AtEmptyPath, StatxTypeInodeSize, buffer) == 0)
                {
                    return FromStatx(buffer);
                }
            }
            finally
            {
                if (added)
                {
                    handle.DangerousRelease();
                }
            }

            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"Cannot examine '{path}': {Marshal.GetPInvokeErrorMessage(errno)}.", errno);
        }

        return new FileNode(FileNodeKind.Regular, RandomAccess.GetLength(handle), 0, 0);
    }

    private static FileNode FromStatx(byte[] buffer)
    {
        int mode = BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(28)) & 0xF000;
        var kind = mode switch
        {
            0x8000 => FileNodeKind.Regular,
            0x4000 => FileNodeKind.Directory,
            _ => FileNodeKind.Special,
        };
        ulong inode = BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(32));
        long size = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(40)), long.MaxValue);
        ulong device = ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(136)) << 32) | BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(140));
        return new FileNode(kind, kind == FileNodeKind.Directory ? 0 : size, device, inode);
    }

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern int Statx(int directoryFd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);
}
