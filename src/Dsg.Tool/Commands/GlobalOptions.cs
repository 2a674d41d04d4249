using System.CommandLine;

namespace Dsg.Tool.Commands;

/// <summary>Options every verb accepts, and the environment the verbs run in.</summary>
internal sealed class GlobalOptions
{
    public GlobalOptions(ToolEnvironment environment)
    {
        Environment = environment;
    }

    public ToolEnvironment Environment { get; }

    /// <summary><c>--verbose</c>: stack traces and every progress line (added to the root, recursive).</summary>
    public Option<bool> Verbose { get; } = new("--verbose", "-v")
    {
        Description = "Show stack traces for internal errors and every progress line.",
        Recursive = true,
    };

    /// <summary>A fresh <c>--json</c> option for one verb.</summary>
    public static Option<bool> Json(string description) => new("--json") { Description = description };
}
