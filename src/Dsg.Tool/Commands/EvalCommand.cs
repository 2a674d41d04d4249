using System.CommandLine;
using System.Globalization;
using Dsg.Core.Data;
using Dsg.Core.Evaluation;
using Dsg.Core.Graph;
using Dsg.Core.Onnx;
using Dsg.Core.Pipeline;
using Dsg.Tool.Configuration;
using Dsg.Tool.Output;
using Dsg.Tool.Running;

namespace Dsg.Tool.Commands;

/// <summary>
/// <c>dsg eval FP32.onnx QUANT.onnx</c>: agreement (top-1 when the first output holds class scores, the mean cosine
/// similarity of the outputs otherwise; --output-kind overrides the detection), accuracy (with --labels), output SQNR,
/// ONNX Runtime latency at batch 1 and 64, and file sizes. Without --data the inputs are N(0,1) noise in the model's input space (--samples, --seed).
/// </summary>
internal static class EvalCommand
{
    public static Command Create(GlobalOptions global)
    {
        var command = new Command("eval", "Compare a quantized model with its fp32 model in ONNX Runtime: agreement, accuracy, output SQNR, latency and size.");
        var reference = new Argument<string>("FP32") { Description = "The fp32 .onnx model." };
        var candidate = new Argument<string>("QUANT") { Description = "The quantized .onnx model made from it." };
        var data = new Option<string>("--data") { Description = "Inputs: a .npy (N×C×H×W float32, preprocessed as the model expects), an IDX images file (.gz read too) or a folder of images (with class subfolders it is an ImageFolder and gives labels); images need --mean and --std. Default: --samples N(0,1) samples drawn with --seed.", HelpName = "PATH" };
        var labels = new Option<string>("--labels") { Description = "Class labels for --data: an IDX labels file or a .npy of int64; adds top-1 accuracy for both models (an ImageFolder brings its own).", HelpName = "PATH" };
        var mean = new Option<string>("--mean") { Description = "Images only: the per-channel mean subtracted after scaling, one number or one per channel (for example 0.2860).", HelpName = "M[,M...]" };
        var std = new Option<string>("--std") { Description = "Images only: the per-channel standard deviation divided by after the mean (for example 0.3530).", HelpName = "S[,S...]" };
        var scale = new Option<string>("--scale") { Description = "Images only: the factor applied to 0–255 pixels first. Default 1/255.", HelpName = "X" };
        var size = new Option<string>("--image-size") { Description = "Images only: resize to WIDTHxHEIGHT. Default: the model's input size.", HelpName = "WxH" };
        var json = GlobalOptions.Json("Print one JSON object instead of text.");
        command.Add(reference);
        command.Add(candidate);
        command.Add(data);
        command.Add(labels);
        command.Add(mean);
        command.Add(std);
        command.Add(scale);
        command.Add(size);
        command.Add(json);
        var settings = new SettingsOptions(command, [OptionCatalog.Samples, OptionCatalog.Seed, OptionCatalog.Threads, OptionCatalog.InputShape, OptionCatalog.OutputKind, .. OptionCatalog.Limits]);
        settings.Describe(OptionCatalog.Samples, "Without --data: how many N(0,1) inputs (in the model's input space, drawn with --seed) both models run on. Unset: the budget's largest sample count (256 for the default budget).");
        settings.Describe(OptionCatalog.Seed, "Without --data: the seed of the N(0,1) inputs.");
        VerbAction.Set(command, global, json, context =>
        {
            var referencePath = context.FullPath(context.Parse.GetValue(reference)!);
            var candidatePath = context.FullPath(context.Parse.GetValue(candidate)!);
            var dataPath = context.Parse.GetValue(data) is { } d ? context.FullPath(d) : null;
            var labelsPath = context.Parse.GetValue(labels) is { } l ? context.FullPath(l) : null;
            var options = settings.Resolve(context.Parse, context.Environment, referencePath).Options;
            var preprocessing = Preprocessing(context.Parse.GetValue(mean), context.Parse.GetValue(std), context.Parse.GetValue(scale), context.Parse.GetValue(size));
            return Task.Run(() =>
            {
                var report = Evaluate(referencePath, candidatePath, dataPath, labelsPath, preprocessing, options, context.CancellationToken,
                    out string dataDescription, out var detected, out var provenance);
                var output = context.Environment.Output;
                if (context.Reporter.IsJson)
                {
                    // One object on standard output: the warning is a field of it, not a line of its own.
                    output.WriteLine(ToJson(report, detected, referencePath, candidatePath, dataDescription, provenance));
                }
                else
                {
                    if (provenance.Warning(referencePath, candidatePath) is { } warning)
                    {
                        context.Reporter.Warning(Core.ErrorCodes.NotQuantizedFromReference, warning);
                    }

                    WriteText(output, report, detected, dataDescription, provenance);
                }

                return VerbAction.Success;
            }, context.CancellationToken);
        });
        return command;
    }

    /// <summary>The declared image preprocessing, or null when none of its options is given.</summary>
    private static ImagePreprocessing? Preprocessing(string? mean, string? std, string? scale, string? size)
    {
        if (mean is null && std is null && scale is null && size is null)
        {
            return null;
        }

        var result = new ImagePreprocessing();
        if (mean is not null)
        {
            result = result with { Mean = ImagePreprocessing.ParseList("mean", mean) };
        }

        if (std is not null)
        {
            result = result with { Std = ImagePreprocessing.ParseList("std", std) };
        }

        if (scale is not null)
        {
            result = result with { Scale = ImagePreprocessing.ParseList("scale", scale) is [var factor] ? factor : throw BadOption("scale", scale, "one number, for example 0.00392157") };
        }

        if (size is not null)
        {
            var parts = size.Split('x', 'X');
            if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int w)
                || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int h) || w <= 0 || h <= 0)
            {
                throw BadOption("image-size", size, "WIDTHxHEIGHT with positive integers, for example 224x224");
            }

            result = result with { Width = w, Height = h };
        }

        return result;
    }

    private static Core.DsgException BadOption(string option, string text, string allowed) =>
        new(Core.ErrorCodes.BadOption, $"Option '--{option}' has the value '{text}'; allowed: {allowed}.", $"Pass --{option} as {allowed}.");

    private static EvaluationReport Evaluate(string referencePath, string candidatePath, string? dataPath, string? labelsPath,
        ImagePreprocessing? preprocessing, DsgOptions options,
        CancellationToken cancellationToken, out string dataDescription, out DetectedOutput detected, out ModelProvenance provenance)
    {
        var referenceModel = OnnxModel.Load(referencePath, options.Limits);
        var candidateModel = OnnxModel.Load(candidatePath, options.Limits);
        provenance = ModelProvenance.Check(referencePath, candidateModel);
        // C,H,W: the declared --input-shape, else the model's own (DSG0203 when its spatial dimensions are dynamic).
        long[] ModelShape() => options.InputShape is { } declared ? declared.ToArray()
            : QuantizePipeline.SampleShape(referenceModel, new QuantizeRequest { ModelPath = referencePath, OutputPath = candidatePath, Source = new GaussianCalibrationSource(), Limits = options.Limits });
        CalibrationSet set;
        if (dataPath is null)
        {
            if (labelsPath is not null)
            {
                throw new Core.DsgException(Core.ErrorCodes.CommandLineUsage, "--labels was given without --data.",
                    "Pass the inputs the labels belong to with --data PATH.");
            }

            int samples = options.Samples ?? QuantizePipelineProducer.BudgetFor(options).MaxSamples;
            set = GaussianCalibrationSource.Noise(samples, ModelShape(), options.Seed);
            dataDescription = string.Create(CultureInfo.InvariantCulture, $"{samples} N(0,1) samples (seed {options.Seed})");
        }
        else
        {
            // Images are resized to the model's input; a .npy is only checked against a declared --input-shape.
            bool images = !dataPath.EndsWith(".npy", StringComparison.OrdinalIgnoreCase);
            var sampleShape = images ? ModelShape() : options.InputShape?.ToArray();
            set = CalibrationData.Load(dataPath, new CalibrationDataOptions { SampleShape = sampleShape, Preprocessing = preprocessing });
            if (labelsPath is not null)
            {
                set = CalibrationData.WithLabels(set, CalibrationData.LoadLabels(labelsPath), labelsPath);
            }

            dataDescription = $"{set.Count} samples from {dataPath}{(labelsPath is null ? "" : $", labels {labelsPath}")}";
        }

        // The fp32 model's output decides the metric; a probe (CPU, one small batch) runs only where its graph leaves the kind open.
        detected = OutputKindDetector.Detect(referenceModel, OutputKindDetector.ParseRequested(options.OutputKind), new TorchGraphOptions(set.SampleShape, "cpu"));
        var metric = QuantizePipeline.MetricFor(detected);
        return ModelEvaluator.Compare(referenceModel, candidateModel, set, new EvaluationOptions { Threads = options.Threads, Metric = metric },
            new FileInfo(referencePath).Length, new FileInfo(candidatePath).Length, cancellationToken);
    }

    private static void WriteText(TextWriter output, EvaluationReport report, DetectedOutput detected, string dataDescription, ModelProvenance provenance)
    {
        static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
        static string Accuracy(double? value) => value is { } a ? F(a, "P2") : "-";
        static string Ms(double? value) => value is { } v ? F(v, "0.00") + " ms" : "-";
        output.WriteLine(provenance.Status switch
        {
            ProvenanceStatus.Matches => "Source        quantized from this fp32 model (SHA-256 matches)",
            ProvenanceStatus.Differs => $"Source        NOT quantized from this fp32 model (it records {provenance.RecordedFile ?? "another file"}; warning DSG0712)",
            _ => "Source        not recorded in the quantized model (cannot check it was made from this fp32 model)",
        });
        output.WriteLine($"Data          {dataDescription}");
        output.WriteLine($"Output kind   {detected.Describe()}");
        output.WriteLine($"Agreement     {AgreementMetrics.Format(report.Metric, report.Agreement)} {AgreementMetrics.Describe(report.Metric)} with fp32");
        output.WriteLine($"Output SQNR   {F(report.OutputSqnrDb, "0.0")} dB");
        output.WriteLine($"{"",-13} {"fp32",-14} {"quantized",-14}");
        output.WriteLine($"{"Accuracy",-13} {Accuracy(report.Reference.Accuracy),-14} {Accuracy(report.Candidate.Accuracy),-14}");
        output.WriteLine($"{"Batch 1",-13} {Ms(report.Reference.Latency?.Batch1Ms),-14} {Ms(report.Candidate.Latency?.Batch1Ms),-14}");
        var batch = report.Reference.Latency?.BatchSize ?? 64;
        output.WriteLine($"{"Batch " + batch.ToString(CultureInfo.InvariantCulture),-13} {Ms(report.Reference.Latency?.BatchMs),-14} {Ms(report.Candidate.Latency?.BatchMs),-14}");
        output.WriteLine($"{"File size",-13} {ByteText(report.Reference.FileBytes),-14} {ByteText(report.Candidate.FileBytes),-14} ({F(report.SizeRatio, "0.00")}x smaller)");
    }

    private static string ByteText(long bytes) => bytes >= 1 << 20
        ? (bytes / 1048576.0).ToString("0.00", CultureInfo.InvariantCulture) + " MiB"
        : (bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KiB";

    private static string ToJson(EvaluationReport report, DetectedOutput detected, string referencePath, string candidatePath, string dataDescription,
        ModelProvenance provenance) => JsonLine.Format(w =>
    {
        w.WriteString("type", "eval");
        w.WriteStartObject("source");
        w.WriteString("status", provenance.StatusName);
        w.WriteString("referenceSha256", provenance.ReferenceSha256);
        w.WriteString("recordedSha256", provenance.RecordedSha256);
        w.WriteString("recordedFile", provenance.RecordedFile);
        w.WriteEndObject();
        w.WriteStartArray("warnings");
        if (provenance.Warning(referencePath, candidatePath) is { } warning)
        {
            w.WriteStartObject();
            w.WriteString("code", Core.ErrorCodes.NotQuantizedFromReference);
            w.WriteString("message", warning);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteString("data", dataDescription);
        w.WriteNumber("samples", report.Samples);
        w.WriteString("outputKind", detected.KindName);
        w.WriteString("agreementMetric", AgreementMetrics.Name(report.Metric));
        Number(w, "agreement", report.Agreement);
        Number(w, "outputSqnrDb", report.OutputSqnrDb);
        foreach (var (name, path, figures) in new[] { ("reference", referencePath, report.Reference), ("candidate", candidatePath, report.Candidate) })
        {
            w.WriteStartObject(name);
            w.WriteString("path", path);
            w.WriteNumber("fileBytes", figures.FileBytes);
            if (figures.Accuracy is { } accuracy)
            {
                w.WriteNumber("accuracy", accuracy);
            }
            else
            {
                w.WriteNull("accuracy");
            }

            if (figures.Latency is { } latency)
            {
                Number(w, "latencyBatch1Ms", latency.Batch1Ms);
                Number(w, "latencyBatchMs", latency.BatchMs);
                w.WriteNumber("latencyBatchSize", latency.BatchSize);
            }

            w.WriteEndObject();
        }
    });

    /// <summary>JSON has no NaN or infinity (identical outputs give an infinite SQNR): those are written as null.</summary>
    private static void Number(System.Text.Json.Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value))
        {
            w.WriteNumber(name, value);
        }
        else
        {
            w.WriteNull(name);
        }
    }
}
