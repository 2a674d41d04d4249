using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Dsg.Core;
using Dsg.Core.Evaluation;
using Dsg.Core.Generation;
using Dsg.Core.Graph;
using Dsg.Core.Inspection;
using Dsg.Core.Pipeline;
using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Import;
using Dsg.Tool.Configuration;
using Dsg.Tool.Output;
using Dsg.Tool.Running;

namespace Dsg.Tool.Commands;

/// <summary>
/// <c>dsg inspect MODEL</c>: inputs, outputs, the input convention (declared, inferred or assumed), opset, parameters,
/// operator histogram, BatchNorm layers, what the first output holds (and so the class term and agreement metric) and
/// whether DSG can run, with every problem's code, message and hint. Exits 1 when DSG cannot run.
/// </summary>
internal static class InspectCommand
{
    public static Command Create(GlobalOptions global)
    {
        var command = new Command("inspect", "Describe an ONNX model and say whether DSG can run on it.");
        var model = new Argument<string>("MODEL") { Description = "The .onnx file." };
        var json = GlobalOptions.Json("Print one JSON object instead of text.");
        var verify = new Option<bool>("--verify") { Description = "Also run the model in the TorchSharp executor and in ONNX Runtime on one N(0,1) batch (--batch-size, --seed) and print each output's max absolute difference." };
        command.Add(model);
        command.Add(json);
        command.Add(verify);
        var settings = new SettingsOptions(command, [OptionCatalog.InputShape, OptionCatalog.OutputKind, OptionCatalog.BatchSize, OptionCatalog.Seed, OptionCatalog.Threads, .. OptionCatalog.InputConvention, .. OptionCatalog.Limits]);

        VerbAction.Set(command, global, json, context =>
        {
            var path = context.FullPath(context.Parse.GetValue(model)!);
            var options = settings.Resolve(context.Parse, context.Environment, path).Options;
            var loaded = OnnxModel.Load(path, options.Limits);
            // The readiness pass quantize runs before any work, so "DSG ready: yes" is a model quantize accepts.
            var report = ModelInspector.Inspect(loaded, out var imported, new ReadinessOptions { InputShape = options.InputShape, Limits = options.Limits });
            // What quantization sees: the import (Constant weights lifted, Softmax and friends rewritten) when there is one.
            var output = DetectOutput(imported, options, ref report);
            var input = InputConventionInference.Resolve(imported, QuantizePipelineProducer.InputDeclarationFor(options), options.InputShape);
            InspectVerification? verification = context.Parse.GetValue(verify) && report.UnsupportedNodes.Count == 0 && report.Problems.All(p => p.Code != ErrorCodes.OpsetNotUpgradable) ? InspectVerification.Run(loaded, options) : null;

            if (context.Reporter.IsJson)
            {
                context.Environment.Output.WriteLine(ToJson(report, output, input, verification));
            }
            else
            {
                WriteText(context.Environment.Output, report, output, input, verification);
                if (!report.DsgReady)
                {
                    context.Reporter.Error(report.Problems[0].ToException(path));
                }
            }

            return Task.FromResult(report.DsgReady ? VerbAction.Success : VerbAction.UserError);
        });
        return command;
    }

    /// <summary>
    /// What the first output holds, probing (on CPU, one small batch) only where the graph leaves it open. A
    /// contradicting --output-kind is a problem of the report (DSG0601), shown beside the detected kind; a model whose
    /// output cannot be described at all gets null (its other problems say why).
    /// </summary>
    private static DetectedOutput? DetectOutput(OnnxModel model, DsgOptions options, ref ModelReport report)
    {
        var probe = new TorchGraphOptions(options.InputShape, "cpu");
        try
        {
            return OutputKindDetector.Detect(model, OutputKindDetector.ParseRequested(options.OutputKind), probe);
        }
        catch (DsgException e) when (e.Code == ErrorCodes.OutputNotClassScores)
        {
            report = report with { Problems = [.. report.Problems, new Problem(e.Code, e.Message, e.Hint)] };
            return OutputKindDetector.Detect(model, requested: null, probe);
        }
        catch (DsgException)
        {
            return null;
        }
    }

    /// <summary>For example <c>probabilities [N,10] (Softmax 'prob'); class term: NLL on log-probabilities; agreement: top-1</c>.</summary>
    private static string OutputLine(DetectedOutput output)
    {
        string classTerm = ClassTerm.Applies(output.Kind) ? "class term: " + ClassTerm.Describe(output.Kind) : "class term off";
        return $"{output.Describe()}; {classTerm}; agreement: {AgreementMetrics.Describe(QuantizePipeline.MetricFor(output))}";
    }

    private static void WriteText(TextWriter output, ModelReport report, DetectedOutput? detected, InputConvention input, InspectVerification? verification)
    {
        static string Tensor(TensorInfo t) => $"{t.Name}: {t.ElementType} [{string.Join(", ", t.Shape)}]";
        output.WriteLine($"Model         {report.Path}");
        output.WriteLine($"Producer      {(report.Producer.Length == 0 ? "(not recorded)" : report.Producer)}");
        output.WriteLine($"IR version    {report.IrVersion}");
        output.WriteLine(report.QuantizedOpset == report.Opset
            ? $"Opset         {report.Opset}"
            : $"Opset         {report.Opset} (upgraded to {report.QuantizedOpset} when quantized)");
        if (report.Import.Count > 0)
        {
            output.WriteLine($"Import        {string.Join("; ", report.Import)}");
        }

        foreach (var (label, tensors) in new[] { ("Inputs", report.Inputs), ("Outputs", report.Outputs) })
        {
            for (int i = 0; i < tensors.Count; i++)
            {
                output.WriteLine($"{(i == 0 ? label : ""),-13} {Tensor(tensors[i])}");
            }
        }

        output.WriteLine($"Output kind   {(detected is null ? "unknown" : OutputLine(detected))}");
        output.WriteLine($"Input convention  {input.Describe()}");
        output.WriteLine($"Parameters    {report.ParameterCount.ToString("N0", CultureInfo.InvariantCulture)}");
        output.WriteLine($"BatchNorm     {report.BatchNormCount} layer(s)");
        output.WriteLine($"Operators     {string.Join(", ", report.OpHistogram.Select(p => $"{p.Key} {p.Value}"))}");
        output.WriteLine($"DSG ready     {(report.DsgReady ? "yes" : $"no ({report.Problems.Count} problem(s))")}");
        foreach (var problem in report.Problems)
        {
            output.WriteLine($"  {problem.Code}  {problem.Message}");
            output.WriteLine($"           hint: {problem.Hint}");
        }

        if (verification is not null)
        {
            output.WriteLine($"Verify        TorchSharp vs ONNX Runtime, batch {verification.BatchSize}, seed {verification.Seed}, N(0,1) input");
            foreach (var (name, difference) in verification.Outputs)
            {
                output.WriteLine($"  {name,-11} max |diff| {difference.ToString("G3", CultureInfo.InvariantCulture)}");
            }
        }
    }

    private static string ToJson(ModelReport report, DetectedOutput? output, InputConvention input, InspectVerification? verification) => JsonLine.Format(w =>
    {
        w.WriteString("type", "inspect");
        w.WriteString("model", report.Path);
        w.WriteString("producer", report.Producer);
        w.WriteNumber("irVersion", report.IrVersion);
        w.WriteNumber("opset", report.Opset);
        w.WriteNumber("quantizedOpset", report.QuantizedOpset);
        w.WriteStartArray("import");
        foreach (var change in report.Import)
        {
            w.WriteStringValue(change);
        }

        w.WriteEndArray();
        WriteTensors(w, "inputs", report.Inputs);
        WriteTensors(w, "outputs", report.Outputs);
        if (output is null)
        {
            w.WriteNull("outputKind");
        }
        else
        {
            w.WriteStartObject("outputKind");
            w.WriteString("kind", output.KindName);
            w.WriteString("output", output.Name);
            w.WriteString("shape", output.ShapeText);
            w.WriteString("producer", output.ProducerOp);
            w.WriteString("producerNode", output.ProducerNode);
            w.WriteNumber("outputs", output.OutputCount);
            w.WriteString("source", output.Source.ToString().ToLowerInvariant());
            w.WriteString("classTerm", ClassTerm.Describe(output.Kind));
            w.WriteString("agreementMetric", AgreementMetrics.Name(QuantizePipeline.MetricFor(output)));
            w.WriteString("description", OutputLine(output));
            w.WriteEndObject();
        }

        w.WriteStartObject("inputConvention");
        WriteNumbers(w, "mean", input.Mean);
        WriteNumbers(w, "std", input.Std);
        if (input.Range is { } range)
        {
            WriteNumbers(w, "range", [range.Min, range.Max]);
        }
        else
        {
            w.WriteNull("range");
        }

        w.WriteString("source", input.Source);
        w.WriteString("detail", input.Detail);
        w.WriteEndObject();
        w.WriteNumber("parameters", report.ParameterCount);
        w.WriteNumber("batchNormLayers", report.BatchNormCount);
        w.WriteStartObject("operators");
        foreach (var (op, count) in report.OpHistogram)
        {
            w.WriteNumber(op, count);
        }

        w.WriteEndObject();
        w.WriteStartArray("unsupportedNodes");
        foreach (var node in report.UnsupportedNodes)
        {
            w.WriteStartObject();
            w.WriteString("opType", node.OpType);
            w.WriteString("domain", node.Domain);
            w.WriteString("node", node.NodeName);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteBoolean("dsgReady", report.DsgReady);
        w.WriteStartArray("problems");
        foreach (var problem in report.Problems)
        {
            w.WriteStartObject();
            w.WriteString("code", problem.Code);
            w.WriteString("message", problem.Message);
            w.WriteString("hint", problem.Hint);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        if (verification is not null)
        {
            w.WriteStartObject("verify");
            w.WriteNumber("batchSize", verification.BatchSize);
            w.WriteNumber("seed", verification.Seed);
            w.WriteNumber("maxAbsDifference", verification.MaxAbsDifference);
            w.WriteStartArray("outputs");
            foreach (var (name, difference) in verification.Outputs)
            {
                w.WriteStartObject();
                w.WriteString("name", name);
                w.WriteNumber("maxAbsDifference", difference);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }
    });

    private static void WriteNumbers(Utf8JsonWriter w, string name, IReadOnlyList<double> values)
    {
        w.WriteStartArray(name);
        foreach (var value in values)
        {
            w.WriteNumberValue(value);
        }

        w.WriteEndArray();
    }

    private static void WriteTensors(Utf8JsonWriter w, string name, IReadOnlyList<TensorInfo> tensors)
    {
        w.WriteStartArray(name);
        foreach (var tensor in tensors)
        {
            w.WriteStartObject();
            w.WriteString("name", tensor.Name);
            w.WriteString("elementType", tensor.ElementType);
            w.WriteStartArray("shape");
            foreach (var dim in tensor.Shape)
            {
                if (long.TryParse(dim, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
                {
                    w.WriteNumberValue(value);
                }
                else
                {
                    w.WriteStringValue(dim);
                }
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }
}
