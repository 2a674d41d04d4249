namespace Dsg.Core.Tests;

/// <summary>A full disk and a denied permission are recognised from the exceptions .NET really throws.</summary>
public sealed class StorageErrorsTests
{
    [Fact]
    public void Writing_to_dev_full_is_a_full_disk()
    {
        var e = Assert.ThrowsAny<IOException>(() =>
        {
            using var stream = new FileStream("/dev/full", FileMode.Open, FileAccess.Write);
            stream.Write(new byte[1 << 16]);
            stream.Flush();
        });

        Assert.True(StorageErrors.IsDiskFull(e), $"HResult {e.HResult}: {e.Message}");
        Assert.True(StorageErrors.IsDiskFull(new DsgException(ErrorCodes.OutputUnwritable, "m", "h", e)));
        Assert.StartsWith("the disk is full", StorageErrors.Describe(e));
    }

    [Fact]
    public void Other_errors_are_not_a_full_disk()
    {
        Assert.False(StorageErrors.IsDiskFull(new IOException("busy", 16)));
        Assert.False(StorageErrors.IsDiskFull(new FileNotFoundException("gone")));
        Assert.True(StorageErrors.IsAccessDenied(new UnauthorizedAccessException("no")));
        Assert.StartsWith("permission denied", StorageErrors.Describe(new UnauthorizedAccessException("no")));
        Assert.Equal("busy", StorageErrors.Describe(new IOException("busy.", 16)));
    }
}
