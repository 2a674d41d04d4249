using System.Diagnostics;
using System.Globalization;
using System.Text;
using Dsg.Core.Graph;
using Dsg.Tests.Shared;

namespace Dsg.Core.Tests.Graph.Conformance;

/// <summary>Renders docs/operators.md from a conformance run.</summary>
internal static class OperatorsDocument
{
    public const string RelativePath = "docs/operators.md";

    public const string Command = "eng/operator-conformance.sh";

    private static readonly Dictionary<string, string> s_notes = new(StringComparer.Ordinal)
    {
        ["BatchNormalization"] = "Inference form (running statistics); each node with constant statistics is a BN layer with a tap on its input. training_mode=1, spatial=0 and consumed running-stat outputs: DSG0205.",
        ["Clip"] = "Bounds as attributes (opset < 11) or inputs (constants read at load, run-time tensors read per call, empty optional inputs).",
        ["Conv"] = "1-D/2-D/3-D, groups, dilations, strides, auto_pad SAME_UPPER/SAME_LOWER/VALID, asymmetric pads (explicit F.pad).",
        ["ConvTranspose"] = "1-D/2-D/3-D, groups, dilations, output_padding, output_shape, auto_pad, asymmetric pads (crop after a pad-free transposed conv).",
        ["AveragePool"] = "1-D/2-D/3-D, ceil_mode, count_include_pad, asymmetric or large pads, auto_pad. dilations ≠ 1: DSG0205.",
        ["MaxPool"] = "1-D/2-D/3-D, ceil_mode, dilations, asymmetric or large pads (-inf padding), auto_pad, Indices output (storage_order 0/1) when pads fit the window.",
        ["Div"] = "Integer division truncates.",
        ["Dropout"] = "Identity with an all-true mask. training_mode true with ratio > 0 is random: DSG0205 when constant, DSG0502 at run time.",
        ["Gemm"] = "alpha, beta, transA, transB, optional C broadcast; the classifier form runs as one F.linear.",
        ["Resize"] = "nearest (all nearest_modes), linear, cubic (cubic_coeff_a, exclude_outside); every coordinate_transformation_mode incl. tf_crop_and_resize with extrapolation_value; scales or sizes; axes. antialias and keep_aspect_ratio_policy ≠ stretch: DSG0205.",
        ["Upsample"] = "nearest/linear with asymmetric coordinates (opset 7 attribute and opset 9 input scales).",
        ["Softmax"] = "opset < 13 coerces to 2-D at axis; opset ≥ 13 normalises one axis.",
        ["LogSoftmax"] = "As Softmax.",
        ["Slice"] = "Attribute form (opset < 10) and input form; negative and out-of-range starts/ends, negative steps.",
        ["Pad"] = "constant, reflect, edge on any axes (pads as attribute or input, optional axes); negative pads crop.",
        ["Reshape"] = "0 copies the input dimension (unless allowzero), -1 inferred.",
        ["Constant"] = "value, value_float(s), value_int(s). Sparse and string constants: DSG0205.",
        ["Shape"] = "start/end (opset 15).",
        ["Gather"] = "Any axis, negative indices, scalar or N-D indices.",
        ["Split"] = "split as attribute or input, equal parts, num_outputs.",
        ["Squeeze"] = "axes as attribute (< 13) or input.",
        ["Unsqueeze"] = "axes as attribute (< 13) or input.",
        ["Cast"] = "To float, double, float16, bfloat16, int8/16/32/64, uint8, bool.",
    };

    public static string Render(IReadOnlyList<CaseResult> results)
    {
        var sb = new StringBuilder();
        var inScope = results.Where(r => r.Outcome != CaseOutcome.UnsupportedOps).ToList();
        int passed = inScope.Count(r => r.Outcome == CaseOutcome.Passed);
        int skipped = inScope.Count(r => r.Outcome == CaseOutcome.Skipped);
        int failed = inScope.Count(r => r.Outcome == CaseOutcome.Failed);
        var notRun = results.Where(r => r.Outcome == CaseOutcome.UnsupportedOps).ToList();

        sb.AppendLine("# Supported ONNX operators");
        sb.AppendLine();
        sb.AppendLine("The TorchSharp executor (`src/Dsg.Core/Graph`) implements the operators below (default `ai.onnx` domain).");
        sb.AppendLine("A model with any other operator is refused with DSG0202, which lists every unsupported node; an attribute or input");
        sb.AppendLine("form an operator does not support is refused with DSG0205.");
        sb.AppendLine();
        sb.AppendLine("## Conformance");
        sb.AppendLine();
        sb.AppendLine(Invariant($"The counts come from a real run of the ONNX backend node tests shipped by Debian's `libonnx-testdata` {PackageVersion()} ({results.Count} cases under `{RepoPaths.OnnxNodeTests}`)."));
        sb.AppendLine(Invariant($"Every case whose model uses only supported operators runs through `TorchGraph.Run` and must match each expected output: equal shapes and |actual − expected| ≤ {ConformanceRunner.Atol:G} + {ConformanceRunner.Rtol:G}·|expected| per element (NaN matches NaN; integer and bool outputs exactly)."));
        sb.AppendLine("Cases out of scope are excluded by a stated rule; where the rule says the executor refuses the case, the run checks that it does, with that code.");
        sb.AppendLine();
        sb.AppendLine($"Regenerate this file with `{Command}`; the test `OnnxNodeConformanceTests.Operators_document_matches_a_fresh_run` fails when it is stale.");
        sb.AppendLine();
        sb.AppendLine(Invariant($"**{OperatorSupport.Supported.Count} operator types. {inScope.Count} cases use only supported operators: {passed} passed, {skipped} excluded by rule, {failed} failed.** {notRun.Count} further cases need operators the executor does not implement and are not run."));
        sb.AppendLine();
        sb.AppendLine("| Operator | Cases | Passed | Excluded | Failed | Notes |");
        sb.AppendLine("|---|---:|---:|---:|---:|---|");
        foreach (var op in OperatorSupport.Supported)
        {
            var cases = inScope.Where(r => r.PrimaryOp == op).ToList();
            var excluded = cases.Where(r => r.Outcome == CaseOutcome.Skipped).ToList();
            string excludedCell = excluded.Count == 0 ? "0" : Invariant($"{excluded.Count}¹");
            sb.AppendLine(Invariant($"| {op} | {cases.Count} | {cases.Count(r => r.Outcome == CaseOutcome.Passed)} | {excludedCell} | {cases.Count(r => r.Outcome == CaseOutcome.Failed)} | {s_notes.GetValueOrDefault(op, "")} |"));
        }

        sb.AppendLine();
        sb.AppendLine("¹ See *Excluded cases*. A case counts for the one operator it tests (Constant nodes feeding it aside); cases composed of several operators are listed separately.");
        sb.AppendLine();
        sb.AppendLine("## Excluded cases");
        sb.AppendLine();
        var excludedAll = inScope.Where(r => r.Outcome == CaseOutcome.Skipped).ToList();
        if (excludedAll.Count == 0)
        {
            sb.AppendLine("None.");
        }
        else
        {
            sb.AppendLine("| Case | Reason |");
            sb.AppendLine("|---|---|");
            foreach (var r in excludedAll)
            {
                sb.AppendLine($"| {r.Name} | {r.Detail} |");
            }
        }

        var failedAll = inScope.Where(r => r.Outcome == CaseOutcome.Failed).ToList();
        if (failedAll.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine("## Failing cases");
            sb.AppendLine();
            sb.AppendLine("| Case | Detail |");
            sb.AppendLine("|---|---|");
            foreach (var r in failedAll)
            {
                sb.AppendLine($"| {r.Name} | {r.Detail.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ")} |");
            }
        }

        var multi = inScope.Where(r => r.PrimaryOp is null).ToList();
        sb.AppendLine();
        sb.AppendLine("## Cases composed of several operators");
        sb.AppendLine();
        sb.AppendLine("Mostly the `_expanded` variants, which spell a function op out in primitive ops.");
        sb.AppendLine();
        sb.AppendLine("| Case | Operators | Outcome |");
        sb.AppendLine("|---|---|---|");
        foreach (var r in multi)
        {
            sb.AppendLine($"| {r.Name} | {string.Join(", ", r.OpTypes)} | {(r.Outcome == CaseOutcome.Skipped ? "excluded: " + r.Detail : r.Outcome.ToString().ToLowerInvariant())} |");
        }

        sb.AppendLine();
        sb.AppendLine("## Not run");
        sb.AppendLine();
        var missing = notRun.SelectMany(r => r.OpTypes.Where(o => !OperatorSupport.IsSupported(o, null))).GroupBy(o => o)
            .OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => Invariant($"{g.Key} ({g.Count()})"));
        sb.AppendLine(Invariant($"{notRun.Count} cases use at least one of these operators, which the executor does not implement (cases per operator): {string.Join(", ", missing)}."));
        return sb.ToString();
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static string PackageVersion()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("dpkg-query", ["-W", "-f", "${Version}", "libonnx-testdata"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            });
            var version = process?.StandardOutput.ReadToEnd().Trim();
            process?.WaitForExit();
            return string.IsNullOrEmpty(version) ? "(version unknown)" : version;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "(version unknown)";
        }
    }
}
