using System.CommandLine;
using System.Text.RegularExpressions;
using Dsg.Core;
using Dsg.Tests.Shared;

namespace Dsg.Tool.Tests.Docs;

/// <summary>Errors raised in Dsg.Core tell the user which option to change; every option they name must exist.</summary>
public sealed class CoreHintsNameRealOptionsTests
{
    private static readonly Regex s_literal = new("\"(?:[^\"\\\\\\n]|\\\\.)*\"", RegexOptions.Compiled);
    private static readonly Regex s_flag = new(@"(?<![\w-])--[a-z][a-z0-9-]*(?![\w-])", RegexOptions.Compiled);

    [Fact]
    public void EveryFlagInACoreStringIsAnOptionOfTheTool()
    {
        var root = DsgCommandLine.Build(new ToolEnvironment(TextWriter.Null, TextWriter.Null, new Dictionary<string, string>()));
        var known = new HashSet<string>(StringComparer.Ordinal);
        void Collect(Command command)
        {
            foreach (var option in command.Options)
            {
                known.Add(option.Name);
                known.UnionWith(option.Aliases);
            }

            foreach (var sub in command.Subcommands)
            {
                Collect(sub);
            }
        }

        Collect(root);
        var unknown = new List<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "src", "Dsg.Core"), "*.cs", SearchOption.AllDirectories)
                     .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            foreach (Match literal in s_literal.Matches(File.ReadAllText(file)))
            {
                unknown.AddRange(s_flag.Matches(literal.Value).Select(m => m.Value).Where(f => !known.Contains(f))
                    .Select(f => $"{Path.GetRelativePath(RepoPaths.Root, file)}: {f}"));
            }
        }

        Assert.Empty(unknown);
    }

    [Fact]
    public void JsonErrorsNameEachSettingAlsoByItsMsBuildMetadata()
    {
        var run = InProcessTool.Run("config", "show", "--samples", "0", "--json");

        var error = run.Line("error");
        Assert.Equal(ErrorCodes.BadOption, error.GetProperty("code").GetString());
        Assert.Contains("option --samples (MSBuild: Samples)", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("--samples (MSBuild: Samples)", error.GetProperty("hint").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("(MSBuild", InProcessTool.Run("config", "show", "--samples", "0").Error, StringComparison.Ordinal);
    }
}
