namespace Dsg.Tool.Tests;

/// <summary>Runs the tool's command line in this process, with captured streams and a given environment.</summary>
internal static class InProcessTool
{
    public static ToolRun Run(string[] args, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null,
        CancellationToken cancellationToken = default, Running.QuantizeProducer? quantizeProducer = null)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var variables = new Dictionary<string, string>(environment ?? new Dictionary<string, string>());
        // Never touch the real user cache from a test.
        variables.TryAdd("HOME", Path.Combine(Path.GetTempPath(), "dsg-test-home"));
        var toolEnvironment = new ToolEnvironment(output, error, variables, workingDirectory ?? Directory.GetCurrentDirectory());
        int exit = DsgCommandLine.RunAsync(args, toolEnvironment, cancellationToken, quantizeProducer).GetAwaiter().GetResult();
        return new ToolRun(exit, output.ToString(), error.ToString());
    }

    public static ToolRun Run(params string[] args) => Run(args, null);
}
