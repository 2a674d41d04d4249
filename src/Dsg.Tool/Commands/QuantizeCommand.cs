using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Dsg.Core;
using Dsg.Core.Caching;
using Dsg.Core.Evaluation;
using Dsg.Tool.Configuration;
using Dsg.Tool.Output;
using Dsg.Tool.Running;

namespace Dsg.Tool.Commands;

/// <summary>
/// <c>dsg quantize MODEL --out OUT.onnx</c>: synthesise calibration samples, quantize, and write OUT.onnx with
/// OUT.report.json and OUT.report.md, through the content-addressed cache (a hit copies the entry's files), and the
/// remote cache behind it when one is set.
/// </summary>
internal static class QuantizeCommand
{
    public static Command Create(GlobalOptions global, QuantizeProducer producer)
    {
        var command = new Command("quantize", "Quantize an ONNX model with synthetic calibration data (or --calibration-data) and write a QDQ model plus reports.");
        var model = new Argument<string>("MODEL") { Description = "The fp32 .onnx model (BatchNormalization preserved)." };
        var output = new Option<string>("--out", "-o") { Description = "The quantized model to write; OUT.report.json and OUT.report.md go beside it.", HelpName = "OUT.onnx", Required = true };
        var json = GlobalOptions.Json("Print JSON lines (phase, progress, warning, error, result) for tools such as the MSBuild task.");
        command.Add(model);
        command.Add(output);
        command.Add(json);
        var settings = new SettingsOptions(command, OptionCatalog.All);
        VerbAction.Set(command, global, json, context =>
            RunAsync(context, producer, context.FullPath(context.Parse.GetValue(model)!), context.FullPath(context.Parse.GetValue(output)!), settings));
        return command;
    }

    private static async Task<int> RunAsync(VerbContext context, QuantizeProducer producer, string modelPath, string outputPath, SettingsOptions settings)
    {
        var clock = Stopwatch.StartNew();
        var resolved = settings.Resolve(context.Parse, context.Environment, modelPath);
        var options = resolved.Options;
        if (resolved.ConfigFile is { } configFile)
        {
            context.Reporter.Note($"Settings from {configFile} (config show lists each value and its source).");
        }

        outputPath = OutputPublisher.Prepare(outputPath, modelPath, out var createdFolders);
        try
        {
            return await ProduceAndPublishAsync(context, producer, modelPath, outputPath, options, clock).ConfigureAwait(false);
        }
        catch
        {
            // A failed or cancelled run leaves no folder it created behind (and AtomicFileSet no half-written file).
            OutputPublisher.RemoveCreatedFolders(createdFolders);
            throw;
        }
    }

    private static async Task<int> ProduceAndPublishAsync(VerbContext context, QuantizeProducer producer, string modelPath, string outputPath, DsgOptions options, Stopwatch clock)
    {
        var content = ModelContent.Read(modelPath, options.Limits);
        var reporter = context.Reporter;

        async Task<IReadOnlyDictionary<string, string>> Produce(string directory, CancellationToken cancellationToken)
        {
            var product = await producer(new QuantizeJob(modelPath, content.Model, options, directory, reporter), cancellationToken).ConfigureAwait(false);
            var metadata = new Dictionary<string, string>
            {
                ["model"] = Path.GetFileName(modelPath),
                ["settings"] = ModelContent.Describe(options),
                ["toolVersion"] = ToolVersion.Current,
            };
            if (product.Agreement is { } agreement)
            {
                metadata["agreement"] = agreement.ToString("R", CultureInfo.InvariantCulture);
                metadata["agreementMetric"] = AgreementMetrics.Name(product.Metric ?? AgreementMetric.TopOne);
            }

            return metadata;
        }

        void Warn(CacheWarning warning) => CacheCommand.Show(reporter, warning);

        IReadOnlyList<string> written;
        IReadOnlyDictionary<string, string> produced;
        bool hit = false;
        bool remoteHit = false;
        bool uploaded = false;
        string? key = null;
        if (options.NoCache)
        {
            var staging = Directory.CreateTempSubdirectory("dsg-");
            try
            {
                produced = await Produce(staging.FullName, context.CancellationToken).ConfigureAwait(false);
                EnsureAgreement(produced, options);
                written = OutputPublisher.Publish(staging.FullName, ProducedFiles(staging.FullName), outputPath, modelPath, context.CancellationToken);
            }
            finally
            {
                staging.Delete(recursive: true);
            }
        }
        else
        {
            key = content.CacheKey(options, ToolVersion.Release);
            using var remote = CacheCommand.OpenRemote(options, context.Environment, Warn);
            var cache = CacheCommand.Open(options, context.Environment, remote);
            using var lookup = await cache.GetOrCreateAsync(key, Produce, Warn, context.CancellationToken).ConfigureAwait(false);
            hit = lookup.Hit;
            remoteHit = lookup.Source == CacheSource.Remote;
            uploaded = lookup.Uploaded;
            produced = lookup.Entry.Manifest.Metadata;
            EnsureAgreement(produced, options);
            written = OutputPublisher.Publish(lookup.Entry.Directory, Order(lookup.Entry.Manifest.Files.Select(f => f.Name)), outputPath, modelPath, context.CancellationToken);
        }

        double? measured = produced.TryGetValue("agreement", out var text) ? double.Parse(text, CultureInfo.InvariantCulture) : null;
        reporter.Result(new RunResult(outputPath, written.Where(p => p != outputPath).ToList(), hit, key, clock.Elapsed.TotalSeconds, measured, MetricOf(produced))
        {
            RemoteHit = remoteHit,
            Uploaded = uploaded,
        });
        return VerbAction.Success;
    }

    /// <summary>How an entry's agreement was measured; entries that do not say are top-1 (the only metric before output kinds).</summary>
    private static AgreementMetric MetricOf(IReadOnlyDictionary<string, string> metadata) =>
        AgreementMetrics.Parse(metadata.GetValueOrDefault("agreementMetric")) ?? AgreementMetric.TopOne;

    /// <summary>The accuracy guard, checked on hits as well as misses, so a stricter --min-agreement is never skipped.</summary>
    private static void EnsureAgreement(IReadOnlyDictionary<string, string> metadata, DsgOptions options)
    {
        if (options.MinAgreement is not { } minimum)
        {
            return;
        }

        if (!metadata.TryGetValue("agreement", out var text))
        {
            throw new DsgException(ErrorCodes.AgreementBelowMinimum,
                "--min-agreement was given but the run measured no agreement.", "Drop --min-agreement or use a method that verifies.");
        }

        double agreement = double.Parse(text, CultureInfo.InvariantCulture);
        if (agreement < minimum)
        {
            var metric = MetricOf(metadata);
            string fits = metric == AgreementMetric.TopOne ? "its output holds class scores" : "its output is not class scores";
            throw new DsgException(ErrorCodes.AgreementBelowMinimum,
                $"The quantized model's {AgreementMetrics.Describe(metric)} with fp32 on held-out synthetic samples is {AgreementMetrics.Format(metric, agreement)} ({fits}), below --min-agreement {AgreementMetrics.Format(metric, minimum)}; nothing was written.",
                "Use a higher precision (for example --precision W8A8), more samples or iterations, another --observer, or real --calibration-data; or lower --min-agreement.");
        }
    }

    private static IEnumerable<string> ProducedFiles(string directory) =>
        Order(Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(directory, p).Replace(Path.DirectorySeparatorChar, '/')));

    /// <summary>The model first, then the reports in name order.</summary>
    private static IEnumerable<string> Order(IEnumerable<string> names) =>
        names.OrderBy(n => n == OutputPublisher.ProducedStem + ".onnx" ? 0 : 1).ThenBy(n => n, StringComparer.Ordinal);
}
