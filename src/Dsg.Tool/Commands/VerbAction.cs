using System.CommandLine;
using Dsg.Core;
using Dsg.Tool.Output;

namespace Dsg.Tool.Commands;

/// <summary>
/// Runs a verb's body and turns its outcome into the exit-code contract: 0 success, 1 a <see cref="DsgException"/>
/// (one coded error line, no stack), 2 an unexpected error (short message; stack with --verbose or DSG_DEBUG=1),
/// 130 cancelled.
/// </summary>
internal static class VerbAction
{
    public const int Success = 0;
    public const int UserError = 1;
    public const int InternalError = 2;
    public const int Cancelled = 130;

    /// <summary>Installs <paramref name="body"/> as <paramref name="command"/>'s action.</summary>
    public static void Set(Command command, GlobalOptions global, Option<bool>? json, Func<VerbContext, Task<int>> body)
    {
        var environment = global.Environment;
        command.SetAction(async (parse, cancellationToken) =>
        {
            bool verbose = parse.GetValue(global.Verbose);
            var reporter = Reporter.Create(environment, json is not null && parse.GetValue(json), verbose);
            return await RunAsync(new VerbContext(parse, environment, reporter, cancellationToken), body).ConfigureAwait(false);
        });
    }

    private static async Task<int> RunAsync(VerbContext context, Func<VerbContext, Task<int>> body)
    {
        try
        {
            return await body(context).ConfigureAwait(false);
        }
        catch (DsgException e)
        {
            context.Reporter.Error(e);
            return UserError;
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            context.Reporter.Cancelled();
            return Cancelled;
        }
        catch (Exception e)
        {
            context.Reporter.InternalError(e);
            return InternalError;
        }
    }
}
