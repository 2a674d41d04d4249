namespace Dsg.Core.Tests;

/// <summary>A set of files is replaced all at once or not at all: the previous set survives every failure.</summary>
public sealed class AtomicFileSetTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dsg-fileset-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Model => Path.Combine(_dir, "m.onnx");

    private string Report => Path.Combine(_dir, "m.report.md");

    [Fact]
    public void Commit_replaces_every_file_and_leaves_no_temp_or_backup()
    {
        File.WriteAllText(Model, "old model");
        using var set = new AtomicFileSet();
        set.Add(Model, Text("new model"));
        set.Add(Report, Text("new report"));
        Assert.Equal("old model", File.ReadAllText(Model));

        var written = set.Commit();

        Assert.Equal(new[] { Model, Report }, written);
        Assert.Equal("new model", File.ReadAllText(Model));
        Assert.Equal("new report", File.ReadAllText(Report));
        Assert.Equal(new[] { "m.onnx", "m.report.md" }, Names());
    }

    [Fact]
    public void A_write_that_fails_leaves_the_previous_set_and_no_temp_files()
    {
        File.WriteAllText(Model, "old model");
        File.WriteAllText(Report, "old report");
        using (var set = new AtomicFileSet())
        {
            set.Add(Model, Text("new model"));
            Assert.Throws<IOException>(() => set.Add(Report, s =>
            {
                s.Write("half"u8);
                throw new IOException("No space left on device", 28);
            }));
        }

        Assert.Equal("old model", File.ReadAllText(Model));
        Assert.Equal("old report", File.ReadAllText(Report));
        Assert.Equal(new[] { "m.onnx", "m.report.md" }, Names());
    }

    [Fact]
    public void A_folder_in_the_way_of_a_later_file_keeps_the_previous_model()
    {
        // Issue 14, item 1: the new model used to replace the old one before the report failed, and the rollback deleted both.
        File.WriteAllText(Model, "old model");
        Directory.CreateDirectory(Report);
        using var set = new AtomicFileSet();
        set.Add(Model, Text("new model"));
        set.Add(Path.Combine(_dir, "m.report.json"), Text("{}"));
        set.Add(Report, Text("new report"));

        var e = Assert.Throws<IOException>(() => set.Commit());
        set.Dispose();

        Assert.Contains("is a folder", e.Message);
        Assert.Equal("old model", File.ReadAllText(Model));
        Assert.True(Directory.Exists(Report));
        Assert.Equal(new[] { "m.onnx", "m.report.md" }, Names());
    }

    [Fact]
    public void A_swap_that_fails_halfway_puts_back_the_files_already_swapped()
    {
        File.WriteAllText(Model, "old model");
        File.WriteAllText(Report, "old report");
        var set = new AtomicFileSet();
        set.Add(Model, Text("new model"));
        set.Add(Path.Combine(_dir, "m.report.json"), Text("new json"));
        set.Add(Report, Text("new report"));
        // The third staged file vanishes (as on a flaky network share): its rename fails after two swaps succeeded.
        File.Delete(Directory.GetFiles(_dir, ".m.report.md.*.tmp").Single());

        Assert.ThrowsAny<IOException>(() => set.Commit());
        set.Dispose();

        Assert.Equal("old model", File.ReadAllText(Model));
        Assert.Equal("old report", File.ReadAllText(Report));
        Assert.Equal(new[] { "m.onnx", "m.report.md" }, Names());
    }

    [Fact]
    public void Cancellation_before_the_swap_changes_nothing()
    {
        File.WriteAllText(Model, "old model");
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        using (var set = new AtomicFileSet())
        {
            set.Add(Model, Text("new model"));
            Assert.Throws<OperationCanceledException>(() => set.Commit(cancelled.Token));
        }

        Assert.Equal("old model", File.ReadAllText(Model));
        Assert.Equal(new[] { "m.onnx" }, Names());
    }

    private static Action<Stream> Text(string text) => s => s.Write(System.Text.Encoding.UTF8.GetBytes(text));

    private string[] Names() => Directory.EnumerateFileSystemEntries(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;
}
