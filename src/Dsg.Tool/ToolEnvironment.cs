using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Configuration.Memory;

namespace Dsg.Tool;

/// <summary>What the tool sees of the outside world: its streams, environment and folder. Tests pass their own.</summary>
internal sealed class ToolEnvironment
{
    private readonly IReadOnlyDictionary<string, string>? _variables;

    /// <summary>Creates an environment.</summary>
    /// <param name="output">Standard output.</param>
    /// <param name="error">Standard error.</param>
    /// <param name="variables">Environment variables; null reads the process environment.</param>
    /// <param name="workingDirectory">The current folder; null uses the process's.</param>
    /// <param name="isTerminal">Whether standard error is a terminal (live progress) rather than redirected (plain lines).</param>
    public ToolEnvironment(TextWriter output, TextWriter error, IReadOnlyDictionary<string, string>? variables = null,
        string? workingDirectory = null, bool isTerminal = false)
    {
        Output = output;
        Error = error;
        _variables = variables;
        WorkingDirectory = workingDirectory ?? Directory.GetCurrentDirectory();
        IsTerminal = isTerminal;
    }

    /// <summary>The process's own console and environment.</summary>
    public static ToolEnvironment FromProcess() =>
        new(Console.Out, Console.Error, isTerminal: !Console.IsErrorRedirected && !Console.IsOutputRedirected);

    public TextWriter Output { get; }

    public TextWriter Error { get; }

    public string WorkingDirectory { get; }

    public bool IsTerminal { get; }

    /// <summary>Whether DSG_DEBUG asks for stack traces.</summary>
    public bool Debug => GetVariable("DSG_DEBUG") is { Length: > 0 } value && value != "0" && !string.Equals(value, "false", StringComparison.OrdinalIgnoreCase);

    /// <summary>Reads one environment variable.</summary>
    public string? GetVariable(string name) =>
        _variables is null ? Environment.GetEnvironmentVariable(name) : _variables.GetValueOrDefault(name);

    /// <summary>The <c>DSG_*</c> variables as configuration, prefix removed.</summary>
    public IConfiguration DsgVariables()
    {
        IConfigurationSource source = _variables is null
            ? new EnvironmentVariablesConfigurationSource { Prefix = "DSG_" }
            : new MemoryConfigurationSource
            {
                InitialData = _variables.Where(v => v.Key.StartsWith("DSG_", StringComparison.OrdinalIgnoreCase))
                    .Select(v => new KeyValuePair<string, string?>(v.Key[4..], v.Value)),
            };
        return new ConfigurationBuilder().Add(source).Build();
    }
}
