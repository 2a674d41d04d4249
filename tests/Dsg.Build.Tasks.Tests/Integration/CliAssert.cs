using Xunit.Abstractions;

namespace Dsg.Build.Tasks.Tests.Integration;

/// <summary>Checks a command's exit code, logging how long it took, with its whole output as the failure message.</summary>
internal static class CliAssert
{
    public static CliResult Succeeds(this ITestOutputHelper log, CliResult result, string what)
    {
        log.WriteLine($"{what}: exit {result.ExitCode} in {result.Elapsed.TotalSeconds:0.0} s");
        Assert.True(result.ExitCode == 0, $"{what} failed:{Environment.NewLine}{result.Output}");
        return result;
    }

    public static CliResult Fails(this ITestOutputHelper log, CliResult result, string what)
    {
        log.WriteLine($"{what}: exit {result.ExitCode} in {result.Elapsed.TotalSeconds:0.0} s");
        Assert.True(result.ExitCode != 0, $"{what} succeeded but should have failed:{Environment.NewLine}{result.Output}");
        return result;
    }
}
