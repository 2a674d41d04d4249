namespace Dsg.Core;

/// <summary>Tells which storage failure an exception is (a full disk, a denied permission), so it can be reported as the matching DSG code.</summary>
public static class StorageErrors
{
    // errno values (Linux; macOS has ENOSPC 28 and EDQUOT 69). .NET puts the errno in HResult for Unix I/O errors.
    private const int NoSpace = 28;
    private const int LinuxQuotaExceeded = 122;
    private const int MacQuotaExceeded = 69;
    private const int ReadOnlyFileSystem = 30;
    // Win32 errors, carried as HRESULT 0x8007xxxx.
    private const int WindowsDiskFull = 112;
    private const int WindowsHandleDiskFull = 39;

    /// <summary>Whether <paramref name="exception"/> (or an exception inside it) reports a full disk or an exceeded quota.</summary>
    public static bool IsDiskFull(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is IOException && HasCode(e.HResult, OperatingSystem.IsWindows() ? [WindowsDiskFull, WindowsHandleDiskFull]
                : OperatingSystem.IsMacOS() ? [NoSpace, MacQuotaExceeded] : [NoSpace, LinuxQuotaExceeded]))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether <paramref name="exception"/> is a denied permission or a read-only file system.</summary>
    public static bool IsAccessDenied(Exception? exception) =>
        exception is UnauthorizedAccessException
        || (exception is IOException && !OperatingSystem.IsWindows() && exception.HResult == ReadOnlyFileSystem);

    /// <summary>Whether the exception is a storage failure at all (an I/O error or a denied permission).</summary>
    public static bool IsStorageFailure(Exception? exception) => exception is IOException or UnauthorizedAccessException;

    /// <summary>The reason to print: the exception's message, with what it means when it is a full disk or a denied permission.</summary>
    public static string Describe(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var message = exception.Message.TrimEnd('.');
        return IsDiskFull(exception) ? $"the disk is full ({message})"
            : IsAccessDenied(exception) ? $"permission denied ({message})"
            : message;
    }

    private static bool HasCode(int hresult, int[] codes)
    {
        int code = OperatingSystem.IsWindows() ? hresult & 0xFFFF : hresult;
        return codes.Contains(code);
    }
}
