using System.Globalization;

namespace Dsg.Tool.Output;

/// <summary>
/// A live display on a terminal: the current phase's progress bar redrawn in place with <c>\r</c>, and one
/// finished line per phase (generate, calibrate, write, verify) with its time.
/// </summary>
internal sealed class TerminalReporter : HumanReporter
{
    private const int BarWidth = 24;
    private readonly object _gate = new();
    private bool _lineOpen;

    public TerminalReporter(TextWriter output, TextWriter error, bool verbose)
        : base(output, error, verbose)
    {
    }

    public override void PhaseStarted(string phase) => Draw($"  {phase,-9} ...");

    public override void PhaseDone(string phase, double seconds)
    {
        lock (_gate)
        {
            ClearLine();
            Err.WriteLine($"  {phase,-9} done   {seconds.ToString("0.0", CultureInfo.InvariantCulture),6} s");
        }
    }

    public override void Progress(string phase, int current, int total, string message)
    {
        int filled = total <= 0 ? 0 : (int)Math.Round(BarWidth * Math.Clamp(current / (double)total, 0, 1));
        Draw($"  {phase,-9} [{new string('#', filled)}{new string('.', BarWidth - filled)}] {current}/{total} {message}");
    }

    protected override void ClearLine()
    {
        lock (_gate)
        {
            if (_lineOpen)
            {
                Err.Write("\r\u001b[2K");
                _lineOpen = false;
            }
        }
    }

    private void Draw(string text)
    {
        lock (_gate)
        {
            int width = 120;
            try
            {
                width = Math.Max(40, Console.WindowWidth - 1);
            }
            catch (IOException)
            {
            }

            Err.Write("\r\u001b[2K" + (text.Length > width ? text[..width] : text));
            Err.Flush();
            _lineOpen = true;
        }
    }
}
