using System.Globalization;
using Dsg.Core.Graph;
using Dsg.Core.Onnx.Proto;
using Dsg.Tests.Shared;
using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core.Tests.Graph.Conformance;

/// <summary>The outcome of one node test case.</summary>
internal enum CaseOutcome
{
    /// <summary>Every output matched.</summary>
    Passed,

    /// <summary>An output differed, or the executor failed.</summary>
    Failed,

    /// <summary>Out of scope by a rule (and, where the rule says so, refused with the expected code).</summary>
    Skipped,

    /// <summary>The model uses an op the executor does not support; not run.</summary>
    UnsupportedOps,
}

/// <summary>What happened to one case.</summary>
internal sealed record CaseResult(string Name, string? PrimaryOp, IReadOnlyList<string> OpTypes, CaseOutcome Outcome, string Detail);

/// <summary>
/// Runs the ONNX backend node tests of Debian's libonnx-testdata through <see cref="TorchGraph"/>. An output
/// matches when its shape is equal and every element satisfies |actual - expected| ≤ Atol + Rtol·|expected|
/// (NaN matches NaN); integer and bool outputs must be equal.
/// </summary>
internal static class ConformanceRunner
{
    public const double Atol = 1e-4;
    public const double Rtol = 1e-3;

    private static readonly Lazy<IReadOnlyList<CaseResult>> s_all = new(() => RunAll().ToList());

    /// <summary>The results of every case (run once per process).</summary>
    public static IReadOnlyList<CaseResult> All => s_all.Value;

    /// <summary>Every case directory name.</summary>
    public static IEnumerable<string> CaseNames() =>
        Directory.Exists(RepoPaths.OnnxNodeTests)
            ? Directory.GetDirectories(RepoPaths.OnnxNodeTests).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)
            : [];

    private static IEnumerable<CaseResult> RunAll()
    {
        foreach (var name in CaseNames())
        {
            yield return Run(name);
        }
    }

    /// <summary>Runs one case.</summary>
    public static CaseResult Run(string name)
    {
        var testCase = NodeTestCase.Load(Path.Combine(RepoPaths.OnnxNodeTests, name));
        if (!ConformanceRules.IsSupported(testCase))
        {
            var missing = testCase.OpTypes.Where(o => !OperatorSupport.IsSupported(o, null));
            return Result(testCase, CaseOutcome.UnsupportedOps, "unsupported op(s): " + string.Join(", ", missing));
        }

        var rule = ConformanceRules.Find(testCase);
        if (rule is not null && rule.ExpectedCode is null)
        {
            return Result(testCase, CaseOutcome.Skipped, rule.Reason);
        }

        string? failure;
        try
        {
            failure = Execute(testCase);
        }
        catch (DsgException e) when (rule is not null)
        {
            return e.Code == rule.ExpectedCode
                ? Result(testCase, CaseOutcome.Skipped, $"{rule.Reason} ({e.Code})")
                : Result(testCase, CaseOutcome.Failed, $"expected refusal {rule.ExpectedCode}, got {e.Code}: {e.Message}");
        }
        catch (Exception e)
        {
            return Result(testCase, CaseOutcome.Failed, $"{e.GetType().Name}: {e.Message}");
        }

        if (rule is not null)
        {
            return Result(testCase, CaseOutcome.Failed, $"expected refusal {rule.ExpectedCode} ({rule.Reason}), but it ran" + (failure is null ? "" : $": {failure}"));
        }

        return failure is null ? Result(testCase, CaseOutcome.Passed, "") : Result(testCase, CaseOutcome.Failed, failure);
    }

    private static CaseResult Result(NodeTestCase c, CaseOutcome outcome, string detail) => new(c.Name, c.PrimaryOp, c.OpTypes, outcome, detail);

    /// <summary>Runs every data set; returns the first mismatch, or null.</summary>
    private static string? Execute(NodeTestCase testCase)
    {
        var inputInfos = testCase.Inputs;
        foreach (var (setName, inputs, expected) in testCase.DataSets())
        {
            using var scope = torch.NewDisposeScope();
            // Declare the data's own shape only where the model leaves an input dimension open.
            bool dynamic = inputInfos.Count > 0 && (inputInfos[0].Type?.TensorType?.Shape?.Dim.Skip(1)
                .Any(d => d.ValueCase != TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue) ?? true);
            var firstShape = dynamic && inputs.Count > 0 ? inputs[0].Dims.Skip(1).ToArray() : null;
            using var graph = TorchGraph.Create(testCase.Model, new TorchGraphOptions(firstShape));
            var feed = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            for (int i = 0; i < inputs.Count && i < inputInfos.Count; i++)
            {
                feed[inputInfos[i].Name] = TensorProtoConverter.ToTensor(inputs[i]);
            }

            var outputs = graph.Run(feed);
            for (int i = 0; i < expected.Count; i++)
            {
                var outputName = testCase.Model.Graph.Output[i].Name;
                var mismatch = Compare(outputs[outputName], expected[i]);
                if (mismatch is not null)
                {
                    return $"{setName} output '{outputName}': {mismatch}";
                }
            }
        }

        return null;
    }

    private static string? Compare(Tensor actual, TensorProto expectedProto)
    {
        using var expected = TensorProtoConverter.ToTensor(expectedProto);
        if (!actual.shape.SequenceEqual(expected.shape))
        {
            return $"shape [{string.Join(",", actual.shape)}], expected [{string.Join(",", expected.shape)}]";
        }

        bool exact = expected.dtype is not (ScalarType.Float32 or ScalarType.Float64 or ScalarType.Float16 or ScalarType.BFloat16);
        var a = TensorProtoConverter.ToDoubles(actual);
        var e = TensorProtoConverter.ToDoubles(expected);
        double worst = 0;
        int worstIndex = -1;
        for (int i = 0; i < a.Length; i++)
        {
            if (double.IsNaN(e[i]) && double.IsNaN(a[i]))
            {
                continue;
            }

            double diff = Math.Abs(a[i] - e[i]);
            if (double.IsInfinity(e[i]) && a[i] == e[i])
            {
                continue;
            }

            double excess = exact ? (a[i] == e[i] ? 0 : double.PositiveInfinity) : diff - (Atol + Rtol * Math.Abs(e[i]));
            if (double.IsNaN(diff) || excess > 0)
            {
                if (worstIndex < 0 || double.IsNaN(diff) || diff > worst)
                {
                    worst = double.IsNaN(diff) ? double.NaN : diff;
                    worstIndex = i;
                }
            }
        }

        return worstIndex < 0 ? null : string.Create(CultureInfo.InvariantCulture,
            $"element {worstIndex}: {a[worstIndex]:G6}, expected {e[worstIndex]:G6} (|diff| {worst:G3}; tolerance {Atol:G1} + {Rtol:G1}·|expected|)");
    }
}
