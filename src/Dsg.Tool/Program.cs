namespace Dsg.Tool;

internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        if (AllocatorRelaunch.Run(args) is int exitCode)
        {
            return exitCode;
        }

        using var signals = new TerminationSignals();
        return await DsgCommandLine.RunAsync(args, ToolEnvironment.FromProcess(), signals.Token).ConfigureAwait(false);
    }
}
