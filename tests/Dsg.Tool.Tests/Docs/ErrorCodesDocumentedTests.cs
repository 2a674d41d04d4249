using System.Reflection;
using System.Text.RegularExpressions;
using Dsg.Core;
using Dsg.Tests.Shared;

namespace Dsg.Tool.Tests.Docs;

public sealed class ErrorCodesDocumentedTests
{
    private static IReadOnlyList<string> DeclaredCodes() => typeof(ErrorCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string))
        .Select(f => (string)f.GetRawConstantValue()!)
        .ToList();

    private static IReadOnlyList<string> DocumentedCodes() =>
        Regex.Matches(File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "errors.md")), @"^#{2,4} (DSG\d{4})\b", RegexOptions.Multiline)
            .Select(m => m.Groups[1].Value)
            .ToList();

    [Fact]
    public void EveryCodeInErrorCodesHasASectionInErrorsMdAndViceVersa()
    {
        var declared = DeclaredCodes();
        var documented = DocumentedCodes();
        Assert.Equal(declared.Count, declared.Distinct().Count());
        Assert.Equal(documented.Count, documented.Distinct().Count());
        Assert.Empty(declared.Except(documented));
        Assert.Empty(documented.Except(declared));
    }

    [Fact]
    public void CodesFollowTheDsgFourDigitPattern() =>
        Assert.All(DeclaredCodes(), code => Assert.Matches(@"^DSG0[1-9]\d\d$", code));
}
