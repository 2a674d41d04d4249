using System.Runtime.InteropServices;

namespace Dsg.Tool;

/// <summary>
/// Turns the first Ctrl+C or SIGTERM into a cancellation, so a run can delete partial outputs and exit 130.
/// A second Ctrl+C ends the process the usual way.
/// </summary>
internal sealed class TerminationSignals : IDisposable
{
    private readonly CancellationTokenSource _cancellation = new();
    private readonly PosixSignalRegistration? _sigterm;
    private readonly ConsoleCancelEventHandler _ctrlC;

    public TerminationSignals()
    {
        _ctrlC = (_, e) =>
        {
            if (!_cancellation.IsCancellationRequested)
            {
                e.Cancel = true;
                _cancellation.Cancel();
            }
        };
        Console.CancelKeyPress += _ctrlC;
        if (!OperatingSystem.IsWindows())
        {
            _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
            {
                context.Cancel = true;
                _cancellation.Cancel();
            });
        }
    }

    public CancellationToken Token => _cancellation.Token;

    public void Dispose()
    {
        Console.CancelKeyPress -= _ctrlC;
        _sigterm?.Dispose();
        _cancellation.Dispose();
    }
}
