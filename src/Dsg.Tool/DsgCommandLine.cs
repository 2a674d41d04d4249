using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using Dsg.Core;
using Dsg.Tool.Commands;
using Dsg.Tool.Output;
using Dsg.Tool.Running;

namespace Dsg.Tool;

/// <summary>Builds the <c>dotnet dsg</c> command tree and runs one command line through it.</summary>
internal static class DsgCommandLine
{
    /// <summary>Parses and runs <paramref name="args"/>; returns the exit code.</summary>
    /// <param name="args">The arguments.</param>
    /// <param name="environment">Streams, variables and folder.</param>
    /// <param name="cancellationToken">Cancelled by Ctrl+C or SIGTERM.</param>
    /// <param name="quantizeProducer">What produces a quantization; null runs <see cref="QuantizePipelineProducer"/> (tests substitute it).</param>
    public static async Task<int> RunAsync(string[] args, ToolEnvironment environment, CancellationToken cancellationToken, QuantizeProducer? quantizeProducer = null)
    {
        var root = Build(environment, quantizeProducer);
        var parse = root.Parse(args);
        if (parse.Action is ParseErrorAction)
        {
            return UsageError(root, parse, environment, args);
        }

        var configuration = new InvocationConfiguration
        {
            Output = environment.Output,
            Error = environment.Error,
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null,
        };
        return await parse.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The command tree.</summary>
    public static RootCommand Build(ToolEnvironment environment, QuantizeProducer? quantizeProducer = null)
    {
        var global = new GlobalOptions(environment);
        var root = new RootCommand(
            "Dsg: data-free quantization of ONNX image models. Synthesises calibration images from the model's own " +
            "BatchNorm statistics (Diverse Sample Generation) and writes an int8/int4 QDQ model that ONNX Runtime runs.");
        root.Add(global.Verbose);
        var inspect = InspectCommand.Create(global);
        var quantize = QuantizeCommand.Create(global, quantizeProducer ?? QuantizePipelineProducer.ProduceAsync);
        var generate = GenerateCommand.Create(global);
        var evaluate = EvalCommand.Create(global);
        var config = ConfigCommand.Create(global);
        var cache = CacheCommand.Create(global);
        foreach (var command in new[] { quantize, generate, evaluate, inspect, config, cache })
        {
            root.Add(command);
        }

        foreach (var option in root.Options)
        {
            if (option is VersionOption version)
            {
                version.Action = new VersionAction();
            }
        }

        var examples = new Dictionary<Command, string[]>
        {
            [root] =
            [
                "dotnet dsg inspect model.onnx --verify",
                "dotnet dsg quantize model.onnx --out model.int8.onnx",
                "dotnet dsg quantize model.onnx --out model.w4a8.onnx --precision W4A8 --samples 512",
                "dotnet dsg cache list",
            ],
            [quantize] =
            [
                "dotnet dsg quantize model.onnx --out model.int8.onnx",
                "dotnet dsg quantize model.onnx --out model.w4a8.onnx --precision W4A8 --samples 512 --iterations 500",
                "dotnet dsg quantize model.onnx --out model.int8.onnx --calibration-data calib.npy --observer percentile",
                "dotnet dsg quantize model.onnx --out model.int8.onnx --min-agreement 0.95 --json",
            ],
            [generate] =
            [
                "dotnet dsg generate model.onnx --out samples/ --samples 64 --iterations 200",
                "dotnet dsg generate model.onnx --out baseline/ --method zeroq --seed 3",
                "dotnet dsg generate model.onnx --out ablation/ --without sci,class --term-weights bn=2",
            ],
            [evaluate] =
            [
                "dotnet dsg eval model.onnx model.int8.onnx",
                "dotnet dsg eval model.onnx model.int8.onnx --data test.npy --labels test_labels.npy --json",
            ],
            [inspect] =
            [
                "dotnet dsg inspect model.onnx",
                "dotnet dsg inspect model.onnx --verify --json",
                "dotnet dsg inspect detector.onnx --input-shape 3,320,320",
            ],
            [config.Subcommands[0]] =
            [
                "dotnet dsg config show",
                "DSG_SAMPLES=64 dotnet dsg config show models/resnet.onnx --precision W4A8",
            ],
            [cache] =
            [
                "dotnet dsg cache list", "dotnet dsg cache prune --cache-size-limit 500MB", "dotnet dsg cache clear", "dotnet dsg cache path",
                "dotnet dsg cache list --remote --remote-cache https://cache.example.com/dsg/",
                "dotnet dsg cache push --all --remote-cache https://cache.example.com/dsg/",
                "dotnet dsg cache pull 8772f6ed1b4b3c11 --remote-cache https://cache.example.com/dsg/",
            ],
        };
        foreach (var option in root.Options)
        {
            if (option is HelpOption help && help.Action is SynchronousCommandLineAction action)
            {
                help.Action = new ExamplesHelpAction(action, examples);
            }
        }

        return root;
    }

    /// <summary>
    /// Reports a parse error with DSG0304 and exit code 1, naming the nearest command or option for a misspelt one
    /// (as System.CommandLine's own error handling would); a command line without a command prints the help first.
    /// </summary>
    private static int UsageError(RootCommand root, ParseResult parse, ToolEnvironment environment, string[] args)
    {
        var command = parse.CommandResult.Command;
        var name = command is RootCommand ? "dotnet dsg" : "dotnet dsg " + string.Join(' ', Ancestry(command));
        bool json = args.Contains("--json", StringComparer.Ordinal);
        if (command is RootCommand && parse.UnmatchedTokens.Count == 0 && !json)
        {
            root.Parse(["--help"]).Invoke(new InvocationConfiguration { Output = environment.Output, Error = environment.Error });
            environment.Output.WriteLine();
        }

        var suggestions = parse.UnmatchedTokens.Select(token => Suggestion(command, token)).Where(s => s is not null).ToList();
        var hint = $"Run '{name} --help' for the usage and examples.";
        if (suggestions.Count > 0)
        {
            hint = string.Join(" ", suggestions) + " " + hint;
        }

        var error = new DsgException(ErrorCodes.CommandLineUsage, string.Join(" ", parse.Errors.Select(e => e.Message)), hint);
        Reporter.Create(environment, json, verbose: false).Error(error);
        return VerbAction.UserError;
    }

    /// <summary>"Did you mean 'quantize'?" for a token close to one of the command's subcommands or options, else null.</summary>
    internal static string? Suggestion(Command command, string token)
    {
        var candidates = token.StartsWith('-')
            ? OptionsOf(command).SelectMany(o => o.Aliases.Prepend(o.Name)).Where(n => n.StartsWith("--", StringComparison.Ordinal))
            : command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name);
        var scored = candidates.Distinct().Select(c => (Name: c, Distance: EditDistance(token, c))).OrderBy(c => c.Distance).ThenBy(c => c.Name, StringComparer.Ordinal).ToList();
        if (scored.Count == 0 || scored[0].Distance > Math.Max(2, token.TrimStart('-').Length / 3))
        {
            return null;
        }

        return $"Did you mean '{scored[0].Name}'?";
    }

    private static IEnumerable<Option> OptionsOf(Command command)
    {
        for (Symbol? symbol = command; symbol is Command c; symbol = symbol.Parents.FirstOrDefault())
        {
            foreach (var option in c.Options.Where(o => !o.Hidden && (c == command || o.Recursive)))
            {
                yield return option;
            }
        }
    }

    /// <summary>Levenshtein distance with adjacent transpositions, ignoring case (flag, command and metadata-name suggestions).</summary>
    internal static int EditDistance(string a, string b)
    {
        a = a.ToLowerInvariant();
        b = b.ToLowerInvariant();
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (int j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }

    private static IEnumerable<string> Ancestry(Command command)
    {
        var names = new Stack<string>();
        for (Symbol? symbol = command; symbol is Command c && c is not RootCommand; symbol = symbol.Parents.FirstOrDefault())
        {
            names.Push(c.Name);
        }

        return names;
    }
}
