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
            return UsageError(parse, environment, args);
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
            [cache] = ["dotnet dsg cache list", "dotnet dsg cache prune --cache-size-limit 500MB", "dotnet dsg cache clear", "dotnet dsg cache path"],
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

    private static int UsageError(ParseResult parse, ToolEnvironment environment, string[] args)
    {
        var command = parse.CommandResult.Command;
        var name = command is RootCommand ? "dotnet dsg" : "dotnet dsg " + string.Join(' ', Ancestry(command));
        var error = new DsgException(ErrorCodes.CommandLineUsage, string.Join(" ", parse.Errors.Select(e => e.Message)),
            $"Run '{name} --help' for the usage and examples.");
        bool json = args.Contains("--json", StringComparer.Ordinal);
        Reporter.Create(environment, json, verbose: false).Error(error);
        return VerbAction.UserError;
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
