using System.Diagnostics;
using System.Globalization;
using System.Text;
using Xunit.Abstractions;

namespace Dsg.Tool.Tests.Fuzz;

/// <summary>
/// Issue 14's fuzz test: every model <see cref="ModelMutator"/> makes from the test assets goes through <c>inspect</c>
/// (load, validation, import, readiness) and a subset (every eighth case, and every case inspect calls ready) through
/// a tiny gaussian <c>quantize</c>; each must end in success or a
/// DSG error code (exit 0 or 1), never an internal error (exit 2), an exception, a crash or a hang; a case whose
/// external data leaves the model folder must be refused; and a model inspect calls ready must be one quantize
/// accepts; a refused model leaves no --out folder behind. <c>eng/fuzz.sh</c> runs the same test over thousands of cases (DSG_FUZZ_CASES) and writes the figures
/// (DSG_FUZZ_REPORT) that docs/reliability.md quotes.
/// </summary>
public sealed class ModelFuzzTests(ITestOutputHelper log)
{
    /// <summary>The suite's seed and case count; eng/fuzz.sh overrides both.</summary>
    private const int DefaultSeed = 14;
    private const int DefaultCases = 320;

    /// <summary>Every this-many cases also run quantize (the rest stop after inspect).</summary>
    private const int QuantizeEvery = 8;

    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// One thread, and an input limit of 100,000 values instead of the default 2^24: the assets have 784 per sample,
    /// and an input mutated to 65,536 x 28 (1.8 million values, allowed by default) takes tens of seconds to probe,
    /// which would make the suite slow without testing anything the limit does not.
    /// </summary>
    private static readonly Dictionary<string, string> s_environment = new()
    {
        ["DSG_THREADS"] = "1",
        ["DSG_MAX_INPUT_VALUES"] = "100000",
    };

    [Fact]
    public void EveryMutatedModelEndsInSuccessOrADsgCode()
    {
        int seed = Setting("DSG_FUZZ_SEED", DefaultSeed);
        int cases = Setting("DSG_FUZZ_CASES", DefaultCases);
        int quantizeEvery = Setting("DSG_FUZZ_QUANTIZE_EVERY", QuantizeEvery);
        Assert.True(cases >= ModelMutator.Mutations.Count || Environment.GetEnvironmentVariable("DSG_FUZZ_FIRST") is not null, "every mutation is applied at least once");
        var mutator = new ModelMutator(seed);
        var tally = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var failures = new List<string>();
        var outcomes = new StringBuilder();
        var clock = Stopwatch.StartNew();
        using var folder = new TempFolder();
        // DSG_FUZZ_KEEP=DIR keeps every case (model, external data, output) under DIR for a closer look.
        string? keep = Environment.GetEnvironmentVariable("DSG_FUZZ_KEEP") is { Length: > 0 } k ? Path.GetFullPath(k) : null;
        int first = Setting("DSG_FUZZ_FIRST", 0);
        for (int i = first; i < first + cases; i++)
        {
            var caseFolder = keep is null ? folder.Combine($"case-{i:D5}") : Path.Combine(keep, $"case-{i:D5}");
            var fuzzCase = mutator.Create(i, caseFolder);
            var inspect = Run(["inspect", fuzzCase.ModelPath, "--json"]);
            Count(tally, "inspect", inspect);
            Check(fuzzCase, "inspect", inspect, failures);

            outcomes.Append(CultureInfo.InvariantCulture, $"{i}\t{fuzzCase.Asset}\t{fuzzCase.Mutations}\tinspect {inspect.Outcome}");
            // Every model inspect calls ready is quantized too: ready must mean quantize accepts it.
            if (i % quantizeEvery == 0 || inspect.Outcome == "ok")
            {
                var quantize = Run(["quantize", fuzzCase.ModelPath, "--out", Path.Combine(caseFolder, "out", "model.q.onnx"), "--json", "--no-cache",
                    "--method", "gaussian", "--samples", "2", "--held-out-samples", "1", "--batch-size", "2", "--threads", "1"]);
                Count(tally, "quantize", quantize);
                // Nothing half-written: a refused model leaves no --out folder, an accepted one the whole set.
                var written = Directory.Exists(Path.Combine(caseFolder, "out")) ? Directory.GetFiles(Path.Combine(caseFolder, "out")).Length : 0;
                if (written != (quantize.Outcome == "ok" ? 3 : 0))
                {
                    failures.Add($"{Describe(fuzzCase)}: quantize ended in {quantize.Outcome} and left {written} file(s) in its --out folder");
                }

                outcomes.Append(CultureInfo.InvariantCulture, $"\tquantize {quantize.Outcome}");
                Check(fuzzCase, "quantize", quantize, failures);
                if (inspect.Outcome == "ok" && quantize.Outcome != "ok")
                {
                    failures.Add($"{Describe(fuzzCase)}: inspect said ready, quantize ended in {quantize.Outcome}: {quantize.Detail}");
                }
            }

            outcomes.AppendLine();
            if (keep is not null)
            {
                continue;
            }

            try
            {
                Directory.Delete(caseFolder, recursive: true);
            }
            catch (IOException)
            {
            }
        }

        string summary = Summary(seed, cases, quantizeEvery, tally, failures.Count, clock.Elapsed);
        log.WriteLine(summary);
        if (Environment.GetEnvironmentVariable("DSG_FUZZ_REPORT") is { Length: > 0 } report)
        {
            File.WriteAllText(report, summary + string.Join("\n", failures) + "\n\ncase\tasset\tmutations\toutcomes\n" + outcomes);
        }

        Assert.True(failures.Count == 0, $"{failures.Count} case(s) failed:\n{string.Join("\n", failures.Take(40))}\n{summary}");
    }

    private static string Describe(FuzzCase fuzzCase) =>
        $"case {fuzzCase.Index} ({fuzzCase.Asset}: {fuzzCase.Mutations})";

    private static void Check(FuzzCase fuzzCase, string verb, Result result, List<string> failures)
    {
        bool acceptable = result.Outcome == "ok" || result.Outcome.StartsWith("DSG", StringComparison.Ordinal);
        if (!acceptable)
        {
            failures.Add($"{Describe(fuzzCase)}: {verb} ended in {result.Outcome}: {result.Detail}");
        }
        else if (fuzzCase.Expectation == Expectation.Refused && result.Outcome == "ok")
        {
            failures.Add($"{Describe(fuzzCase)}: {verb} accepted a model whose external data leaves its folder");
        }
    }

    private static void Count(SortedDictionary<string, int> tally, string verb, Result result)
    {
        string key = $"{verb} {result.Outcome}";
        tally[key] = tally.GetValueOrDefault(key) + 1;
    }

    private static string Summary(int seed, int cases, int quantizeEvery, SortedDictionary<string, int> tally, int failures, TimeSpan elapsed)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"seed {seed}, {cases} cases ({ModelMutator.Mutations.Count} mutations over {ModelMutator.Assets.Distinct().Count()} assets), quantize every {quantizeEvery}: {failures} failure(s) in {elapsed.TotalSeconds:F1} s");
        foreach (var (outcome, count) in tally)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {outcome,-22} {count}");
        }

        return text.ToString();
    }

    /// <summary>One run of the tool in this process, bounded by <see cref="s_timeout"/>.</summary>
    private static Result Run(string[] args)
    {
        var task = Task.Run(() => InProcessTool.Run(args, s_environment));
        try
        {
            if (!task.Wait(s_timeout))
            {
                return new Result("hang", $"no answer after {s_timeout.TotalSeconds} s");
            }
        }
        catch (AggregateException e)
        {
            return new Result("exception", e.InnerException?.ToString() ?? e.ToString());
        }

        var run = task.Result;
        return run.ExitCode switch
        {
            0 => new Result("ok", ""),
            1 => new Result(CodeOf(run) ?? "exit 1 without a code", run.ToString()),
            _ => new Result($"exit {run.ExitCode}", run.ToString()),
        };
    }

    /// <summary>The DSG code of a failed run: the error line's, or the first problem of an inspect report.</summary>
    private static string? CodeOf(ToolRun run)
    {
        IReadOnlyList<System.Text.Json.JsonElement> lines;
        try
        {
            lines = run.JsonLines;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }

        foreach (var line in lines)
        {
            var type = line.GetProperty("type").GetString();
            if (type == "error" && line.TryGetProperty("code", out var code))
            {
                return code.GetString();
            }

            if (type == "inspect" && line.GetProperty("problems").EnumerateArray().FirstOrDefault() is { ValueKind: System.Text.Json.JsonValueKind.Object } problem)
            {
                return problem.GetProperty("code").GetString();
            }
        }

        return null;
    }

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : fallback;

    private sealed record Result(string Outcome, string Detail);
}
