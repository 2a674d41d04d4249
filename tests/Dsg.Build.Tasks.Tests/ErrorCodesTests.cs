using System.Reflection;
using Dsg.Tests.Shared;

namespace Dsg.Build.Tasks.Tests;

public sealed class ErrorCodesTests
{
    [Fact]
    public void EveryTaskCodeIsListedWithTheSameNameInDsgCoreErrorCodes()
    {
        // The task assembly does not reference Dsg.Core, so the 09xx codes are written twice; this keeps them equal.
        string coreCodes = File.ReadAllText(Path.Combine(RepoPaths.Root, "src", "Dsg.Core", "ErrorCodes.cs"));
        var fields = typeof(DsgErrorCodes).GetFields(BindingFlags.Public | BindingFlags.Static);

        Assert.NotEmpty(fields);
        foreach (var field in fields)
        {
            string code = (string)field.GetValue(null)!;
            Assert.StartsWith("DSG09", code, StringComparison.Ordinal);
            Assert.Contains($"public const string {field.Name} = \"{code}\";", coreCodes, StringComparison.Ordinal);
        }

        Assert.Equal(fields.Length, fields.Select(f => f.GetValue(null)).Distinct().Count());
    }
}
