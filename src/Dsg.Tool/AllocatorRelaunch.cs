using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Dsg.Tool;

/// <summary>
/// Runs the tool again as a child process with glibc's malloc set for libtorch (one arena, transparent huge pages, every
/// block from the heap, freed memory kept), and waits for it.
/// </summary>
/// <remarks>
/// A generation step allocates and frees gigabytes of activations. With glibc's defaults (an arena per allocating
/// thread, and a fresh mmap for every block over 32 MB) they come back as new 4 KiB pages on every step: on the 2-core
/// reference VM a run of ResNet-18 at 224 × 224, batch 32, took 5.6–5.9 million page faults, and a DSG iteration
/// 3.9–11.6 s, where with one arena and huge pages it took 0.16 million faults and 1.6–1.9 s (docs/performance.md,
/// "Page faults"). Blocks over 32 MB were still mapped afresh on every step (glibc's mmap threshold stops there); with
/// every block from the heap and freed memory kept, a DSG step at 224 × 224 took about half the time again, for 5–16 %
/// more peak memory (docs/performance.md, "Page faults are still the largest cost"). glibc reads these settings only
/// when a process starts, so the tool sets them for a copy of itself: <c>MALLOC_ARENA_MAX=1</c> and
/// <see cref="MallocTunables"/> added to <c>GLIBC_TUNABLES</c> (huge pages where the kernel's transparent_hugepage mode
/// is <c>madvise</c> or <c>always</c>). A user who set <c>MALLOC_ARENA_MAX</c> or a
/// <c>glibc.malloc</c> tunable has tuned malloc already: that is kept and nothing is relaunched; so is a process that
/// is not on glibc, and one that cannot start the copy (it then runs as it is).
/// The parent passes SIGTERM on to the child and ignores SIGINT (a terminal's Ctrl+C reaches both, as one process group),
/// so cancellation behaves as it does without the relaunch; the child is killed if the parent dies
/// (<c>PR_SET_PDEATHSIG</c>), so a SIGKILL of the parent stops the work as it would have stopped it.
/// </remarks>
internal static class AllocatorRelaunch
{
    /// <summary>glibc's arena limit, read at start-up.</summary>
    internal const string ArenaVariable = "MALLOC_ARENA_MAX";

    /// <summary>glibc's tunables, read at start-up (colon-separated name=value pairs).</summary>
    internal const string TunablesVariable = "GLIBC_TUNABLES";

    /// <summary>
    /// The tunables the child gets: transparent huge pages; no mmap, so blocks over 32 MB come from the heap too rather
    /// than from fresh pages on every step; and freed memory kept by the process (trimmed only above 16 GB free).
    /// eng/native-allocator.sh reads this line for the test, benchmark and results processes: keep it one literal.
    /// </summary>
    internal const string MallocTunables = "glibc.malloc.hugetlb=1:glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184";

    /// <summary>Set in the child to the parent's process id: the child never relaunches itself again.</summary>
    internal const string ChildVariable = "DSG_RELAUNCHED_BY";

    private const int SigKill = 9;
    private const int SigTerm = 15;
    private const int PrSetPdeathsig = 1;

    /// <summary>
    /// The relaunched child's exit code, or null where the tool should run in this process (already one arena, not glibc,
    /// already relaunched, or the copy could not be started).
    /// </summary>
    public static int? Run(string[] args)
    {
        if (Environment.GetEnvironmentVariable(ChildVariable) is { } parent)
        {
            DieWithParent(parent);
            return null;
        }

        string? tunables = Environment.GetEnvironmentVariable(TunablesVariable);
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable(ArenaVariable) is not null
            || (tunables?.Contains("glibc.malloc.", StringComparison.Ordinal) ?? false) || !OnGlibc()
            || StartInfo(Environment.ProcessPath, Environment.GetCommandLineArgs(), args) is not { } start)
        {
            return null;
        }

        start.Environment[ArenaVariable] = "1";
        start.Environment[TunablesVariable] = ChildTunables(tunables);
        start.Environment[ChildVariable] = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Process child;
        try
        {
            child = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }

        using (child)
        using (PosixSignalRegistration.Create(PosixSignal.SIGINT, context => context.Cancel = true))
        using (PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            _ = Kill(child.Id, SigTerm);
        }))
        {
            child.WaitForExit();
            return child.ExitCode;
        }
    }

    /// <summary>
    /// How to start the same tool with the same arguments: <c>dotnet TOOL.dll ARGS</c> when this process is the dotnet
    /// host running the tool's assembly (<c>dotnet dsg</c>, <c>dotnet dotnet-dsg.dll</c>), or <c>EXE ARGS</c> when it is
    /// the tool's own launcher; null when neither is known.
    /// </summary>
    internal static ProcessStartInfo? StartInfo(string? processPath, string[] commandLine, IReadOnlyList<string> args)
    {
        if (processPath is null || commandLine.Length == 0)
        {
            return null;
        }

        var start = new ProcessStartInfo(processPath) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(processPath) == "dotnet")
        {
            if (!commandLine[0].EndsWith(".dll", StringComparison.OrdinalIgnoreCase) || !File.Exists(commandLine[0]))
            {
                return null;
            }

            start.ArgumentList.Add(commandLine[0]);
        }

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }

    /// <summary>The child's <c>GLIBC_TUNABLES</c>: the parent's (which set no malloc tunable) with huge pages added.</summary>
    internal static string ChildTunables(string? tunables) => string.IsNullOrEmpty(tunables) ? MallocTunables : tunables + ":" + MallocTunables;

    private static bool OnGlibc()
    {
        try
        {
            return GnuGetLibcVersion() != IntPtr.Zero;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Asks the kernel to SIGKILL this process when its parent (the relaunching tool) ends.</summary>
    private static void DieWithParent(string parent)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        _ = PrCtl(PrSetPdeathsig, SigKill, 0, 0, 0);
        if (GetParentProcessId().ToString(System.Globalization.CultureInfo.InvariantCulture) != parent)
        {
            // The parent ended before the request was in place (the child was adopted), so nothing waits for this run.
            Environment.Exit(137);
        }
    }

    [DllImport("libc", EntryPoint = "gnu_get_libc_version")]
    private static extern IntPtr GnuGetLibcVersion();

    [DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);

    [DllImport("libc", EntryPoint = "prctl")]
    private static extern int PrCtl(int option, ulong arg2, ulong arg3, ulong arg4, ulong arg5);

    [DllImport("libc", EntryPoint = "getppid")]
    private static extern int GetParentProcessId();
}
