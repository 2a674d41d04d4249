using System.CommandLine;
using System.CommandLine.Invocation;

namespace Dsg.Tool.Commands;

/// <summary><c>--version</c>: the SemVer on the first line (the MSBuild task reads it).</summary>
internal sealed class VersionAction : SynchronousCommandLineAction
{
    public override int Invoke(ParseResult parseResult)
    {
        parseResult.InvocationConfiguration.Output.WriteLine(ToolVersion.Current);
        return 0;
    }
}
