using System.CommandLine;
using System.CommandLine.Invocation;

namespace Dsg.Tool.Commands;

/// <summary>The standard help, followed by an Examples section for the command being described.</summary>
internal sealed class ExamplesHelpAction : SynchronousCommandLineAction
{
    private readonly SynchronousCommandLineAction _help;
    private readonly IReadOnlyDictionary<Command, string[]> _examples;

    public ExamplesHelpAction(SynchronousCommandLineAction help, IReadOnlyDictionary<Command, string[]> examples)
    {
        _help = help;
        _examples = examples;
    }

    public override int Invoke(ParseResult parseResult)
    {
        int result = _help.Invoke(parseResult);
        if (_examples.TryGetValue(parseResult.CommandResult.Command, out var lines))
        {
            var output = parseResult.InvocationConfiguration.Output;
            output.WriteLine("Examples:");
            foreach (var line in lines)
            {
                output.WriteLine("  " + line);
            }

            output.WriteLine();
        }

        return result;
    }
}
