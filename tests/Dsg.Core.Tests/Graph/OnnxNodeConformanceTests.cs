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

    [Fact]
    public void Suite_is_installed_and_most_supported_cases_run()
    {
        Assert.True(Directory.Exists(Dsg.Tests.Shared.RepoPaths.OnnxNodeTests), "libonnx-testdata is not installed (eng/install-deps.sh installs it).");
        int ran = ConformanceRunner.All.Count(r => r.Outcome is CaseOutcome.Passed or CaseOutcome.Failed);
        Assert.True(ran >= 250, $"only {ran} node test cases ran");
    }
}
