using System.Text.Json;
using Dsg.Tool.Output;

namespace Dsg.Tool.Tests.Output;

/// <summary>What each reporter prints for progress: the counts, the message and the phase's time taken and left.</summary>
public sealed class ProgressLineTests
{
    private readonly ManualClock _time = new();
    private readonly StringWriter _out = new();
    private readonly StringWriter _err = new();

    /// <summary>A generate phase: 60 s of set-up and step 1, then steps 2 to 11 at 2 s each, of 101.</summary>
    private void RunGenerate(Reporter reporter)
    {
        reporter.PhaseStarted("generate");
        _time.AdvanceSeconds(60);
        reporter.Progress("generate", 1, 101, "batch 1/2 iter 1/50 loss 3.2");
        _time.AdvanceSeconds(20);
        reporter.Progress("generate", 11, 101, "batch 1/2 iter 11/50 loss 0.53");
    }

    [Fact]
    public void JsonProgressLinesCarryElapsedSecondsAndEtaSecondsNullUntilEstimated()
    {
        RunGenerate(new JsonLinesReporter(_out, _time.PhaseClock()));

        var lines = _out.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var progress = lines.Where(l => l.GetProperty("type").GetString() == "progress").ToList();
        Assert.Equal(2, progress.Count);
        Assert.Equal(60, progress[0].GetProperty("elapsedSeconds").GetDouble());
        Assert.Equal(JsonValueKind.Null, progress[0].GetProperty("etaSeconds").ValueKind);
        Assert.Equal(80, progress[1].GetProperty("elapsedSeconds").GetDouble());
        Assert.Equal(180, progress[1].GetProperty("etaSeconds").GetDouble());
        Assert.Equal(11, progress[1].GetProperty("current").GetInt32());
        Assert.Equal(101, progress[1].GetProperty("total").GetInt32());
    }

    [Fact]
    public void JsonSecondsAreRoundedToATenth()
    {
        var reporter = new JsonLinesReporter(_out, _time.PhaseClock());
        reporter.PhaseStarted("calibrate");
        reporter.Progress("calibrate", 1, 4, "");
        _time.AdvanceSeconds(1.23456);
        reporter.Progress("calibrate", 2, 4, "");
        var last = JsonDocument.Parse(_out.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]).RootElement;
        Assert.Equal(1.2, last.GetProperty("elapsedSeconds").GetDouble());
        Assert.Equal(2.5, last.GetProperty("etaSeconds").GetDouble());
    }

    [Fact]
    public void PlainLinesShowTheTimeTakenAndLeft()
    {
        RunGenerate(new PlainReporter(_out, _err, verbose: false, _time.PhaseClock()));
        var lines = _err.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(
            ["generate: started",
             "generate: 1/101 (elapsed 1m 00s) batch 1/2 iter 1/50 loss 3.2",
             "generate: 11/101 (elapsed 1m 20s, about 3m 00s left) batch 1/2 iter 11/50 loss 0.53"],
            lines);
    }

    [Fact]
    public void PlainLinesComeAtMostEveryFiveSecondsAndAtTheEnd()
    {
        var reporter = new PlainReporter(_out, _err, verbose: false, _time.PhaseClock());
        reporter.PhaseStarted("calibrate");
        reporter.Progress("calibrate", 1, 3, "");
        _time.AdvanceSeconds(1);
        reporter.Progress("calibrate", 2, 3, "");
        _time.AdvanceSeconds(1);
        reporter.Progress("calibrate", 3, 3, "");
        var lines = _err.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["calibrate: started", "calibrate: 3/3 (elapsed 2s)"], lines);
    }

    [Fact]
    public void TheTerminalLineShowsTheTimeBeforeTheMessage()
    {
        RunGenerate(new TerminalReporter(_out, _err, verbose: false, _time.PhaseClock(), width: () => 200));
        var last = _err.ToString().Split("\r\u001b[2K")[^1];
        Assert.Equal("  generate  [###.....................] 11/101 (elapsed 1m 20s, about 3m 00s left) batch 1/2 iter 11/50 loss 0.53", last);
    }

    [Fact]
    public void ANarrowTerminalCutsTheMessageBeforeTheTime()
    {
        RunGenerate(new TerminalReporter(_out, _err, verbose: false, _time.PhaseClock(), width: () => 90));
        var last = _err.ToString().Split("\r\u001b[2K")[^1];
        Assert.Equal(90, last.Length);
        Assert.Contains("(elapsed 1m 20s, about 3m 00s left)", last);
    }
}
