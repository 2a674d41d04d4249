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
    private readonly Func<int> _width;
    private bool _lineOpen;

    /// <summary>A display that cuts lines to <paramref name="width"/> columns (the console window's when null).</summary>
    public TerminalReporter(TextWriter output, TextWriter error, bool verbose, PhaseClock? clock = null, Func<int>? width = null)
        : base(output, error, verbose, clock)
    {
        _width = width ?? WindowWidth;
    }

    public override void PhaseDone(string phase, double seconds)
    {
        lock (_gate)
        {
            ClearLine();
            Err.WriteLine($"  {phase,-9} done   {seconds.ToString("0.0", CultureInfo.InvariantCulture),6} s");
        }
    }

    protected override void WritePhaseStarted(string phase) => Draw($"  {phase,-9} ...");

    /// <remarks>The time comes before the message, so a narrow window cuts the message first.</remarks>
    protected override void WriteProgress(string phase, int current, int total, string message, ProgressTiming timing)
    {
        int filled = total <= 0 ? 0 : (int)Math.Round(BarWidth * Math.Clamp(current / (double)total, 0, 1));
        Draw($"  {phase,-9} [{new string('#', filled)}{new string('.', BarWidth - filled)}] {current}/{total} ({timing.Describe()}) {message}".TrimEnd());
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
            int width = Math.Max(40, _width());
            Err.Write("\r\u001b[2K" + (text.Length > width ? text[..width] : text));
            Err.Flush();
            _lineOpen = true;
        }
    }

    private static int WindowWidth()
    {
        try
        {
            return Console.WindowWidth - 1;
        }
        catch (IOException)
        {
            return 120;
        }
    }
}
