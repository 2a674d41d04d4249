namespace Dsg.Tool;

internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        using var signals = new TerminationSignals();
        return await DsgCommandLine.RunAsync(args, ToolEnvironment.FromProcess(), signals.Token).ConfigureAwait(false);
    }
}
