using System.Diagnostics;

namespace Dsg.Core.Tests;

/// <summary>Paths compared where the file system puts them: links in any component resolved, files known by identity.</summary>
public sealed class RealPathTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dsg-realpath-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_folder_link_in_the_middle_is_resolved_and_dot_dot_applies_to_its_target()
    {
        var real = Directory.CreateDirectory(Path.Combine(_dir, "deep", "real")).FullName;
        Directory.CreateSymbolicLink(Path.Combine(_dir, "alias"), real);

        Assert.Equal(Path.Combine(real, "model.onnx"), RealPath.Resolve(Path.Combine(_dir, "alias", "model.onnx")));
        // As the kernel resolves it: alias/.. is the parent of the link's target, not _dir.
        Assert.Equal(Path.Combine(_dir, "deep", "x"), RealPath.Resolve(Path.Combine(_dir, "alias", "..", "x")));
    }

    [Fact]
    public void A_relative_link_chain_is_followed_to_the_end()
    {
        var target = Path.Combine(_dir, "data.bin");
        File.WriteAllText(target, "x");
        Directory.CreateDirectory(Path.Combine(_dir, "sub"));
        File.CreateSymbolicLink(Path.Combine(_dir, "sub", "one"), "../two");
        File.CreateSymbolicLink(Path.Combine(_dir, "two"), "data.bin");

        Assert.Equal(target, RealPath.Resolve(Path.Combine(_dir, "sub", "one")));
    }

    [Fact]
    public void A_link_loop_is_an_IOException()
    {
        File.CreateSymbolicLink(Path.Combine(_dir, "a"), Path.Combine(_dir, "b"));
        File.CreateSymbolicLink(Path.Combine(_dir, "b"), Path.Combine(_dir, "a"));

        Assert.Throws<IOException>(() => RealPath.Resolve(Path.Combine(_dir, "a", "x")));
    }

    [Fact]
    public void SameFile_sees_through_folder_links_and_hard_links()
    {
        var real = Directory.CreateDirectory(Path.Combine(_dir, "real")).FullName;
        var model = Path.Combine(real, "model.onnx");
        File.WriteAllText(model, "fp32");
        Directory.CreateSymbolicLink(Path.Combine(_dir, "alias"), real);
        File.WriteAllText(Path.Combine(_dir, "other.onnx"), "fp32");

        Assert.True(RealPath.SameFile(Path.Combine(_dir, "alias", "model.onnx"), model));
        Assert.False(RealPath.SameFile(Path.Combine(_dir, "other.onnx"), model));
        Assert.False(RealPath.SameFile(Path.Combine(_dir, "alias", "new.onnx"), model));
        if (OperatingSystem.IsLinux())
        {
            Run("ln", model, Path.Combine(_dir, "hard.onnx"));
            Assert.True(RealPath.SameFile(Path.Combine(_dir, "hard.onnx"), model));
        }
    }

    [Fact]
    public void FileNode_tells_a_FIFO_from_a_file_without_opening_it()
    {
        var fifo = Path.Combine(_dir, "pipe");
        Run("mkfifo", fifo);
        var file = Path.Combine(_dir, "file");
        File.WriteAllBytes(file, new byte[5]);

        Assert.Equal(FileNodeKind.Special, FileNode.Of(fifo)!.Value.Kind);
        Assert.Equal(new FileNode(FileNodeKind.Regular, 5, FileNode.Of(file)!.Value.Device, FileNode.Of(file)!.Value.Inode), FileNode.Of(file));
        Assert.Equal(FileNodeKind.Directory, FileNode.Of(_dir)!.Value.Kind);
        Assert.Null(FileNode.Of(Path.Combine(_dir, "absent")));
        Assert.Null(FileNode.Of(Path.Combine(file, "below-a-file")));
        using var handle = File.OpenHandle(file);
        Assert.True(FileNode.Of(handle, file).SameFileAs(FileNode.Of(file)!.Value));
    }

    internal static void Run(string program, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardError = true })!;
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{program} failed: {process.StandardError.ReadToEnd()}");
    }
}
