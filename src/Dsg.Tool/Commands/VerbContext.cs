using System.CommandLine;
using Dsg.Tool.Output;

namespace Dsg.Tool.Commands;

/// <summary>What a verb's body gets: the parse, the environment, a reporter and the cancellation token.</summary>
internal sealed record VerbContext(ParseResult Parse, ToolEnvironment Environment, Reporter Reporter, CancellationToken CancellationToken)
{
    /// <summary>A path given on the command line, made absolute against the working folder.</summary>
    public string FullPath(string path) => Path.GetFullPath(path, Environment.WorkingDirectory);
}
