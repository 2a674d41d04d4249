using Dsg.Core.Tests.Graph.Conformance;

namespace Dsg.Core.Tests.Graph;

/// <summary>
/// Runs every libonnx-testdata node test whose model uses only supported ops through the executor. Out-of-scope
/// cases are excluded by a stated rule (<see cref="ConformanceRules"/>); the rest must pass within
/// atol 1e-4 + rtol 1e-3 (exact for integer and bool outputs).
/// </summary>
public sealed class OnnxNodeConformanceTests
{
    public static TheoryData<string> SupportedCases()
    {
        var data = new TheoryData<string>();
        foreach (var result in ConformanceRunner.All.Where(r => r.Outcome != CaseOutcome.UnsupportedOps))
        {
            data.Add(result.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SupportedCases))]
    public void Case_matches_the_reference_or_is_excluded_by_a_rule(string name)
    {
        var result = ConformanceRunner.All.Single(r => r.Name == name);
        Assert.True(result.Outcome is CaseOutcome.Passed or CaseOutcome.Skipped, $"{name} [{string.Join(",", result.OpTypes)}]: {result.Detail}");
    }

    /// <summary>
    /// docs/operators.md must be what a fresh run renders. With DSG_WRITE_OPERATORS_DOC=1 (eng/operator-conformance.sh)
    /// the test writes the file instead.
    /// </summary>
    [Fact]
    public void Operators_document_matches_a_fresh_run()
    {
        var rendered = OperatorsDocument.Render(ConformanceRunner.All);
        var path = Path.Combine(Dsg.Tests.Shared.RepoPaths.Root, OperatorsDocument.RelativePath);
        if (Environment.GetEnvironmentVariable("DSG_WRITE_OPERATORS_DOC") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, rendered);
        }

        Assert.True(File.Exists(path), $"{OperatorsDocument.RelativePath} is missing; run {OperatorsDocument.Command}.");
        Assert.True(File.ReadAllText(path).ReplaceLineEndings("\n") == rendered.ReplaceLineEndings("\n"),
            $"{OperatorsDocument.RelativePath} is stale; run {OperatorsDocument.Command} and commit the result.");
    }

    [Fact]
    public void Suite_is_installed_and_most_supported_cases_run()
    {
        Assert.True(Directory.Exists(Dsg.Tests.Shared.RepoPaths.OnnxNodeTests), "libonnx-testdata is not installed (eng/install-deps.sh installs it).");
        int ran = ConformanceRunner.All.Count(r => r.Outcome is CaseOutcome.Passed or CaseOutcome.Failed);
        Assert.True(ran >= 250, $"only {ran} node test cases ran");
    }
}
