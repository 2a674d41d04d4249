using System.Globalization;
using Dsg.Core.Caching;
using Dsg.Core.Onnx;
using Dsg.Tool.Configuration;

namespace Dsg.Tool.Running;

/// <summary>A model read once: its validated form and the bytes its cache key is computed over.</summary>
internal sealed class ModelContent
{
    private ModelContent(OnnxModel model, byte[] content)
    {
        Model = model;
        Content = content;
    }

    public OnnxModel Model { get; }

    /// <summary>The model file's bytes followed by the bytes of every external-data tensor.</summary>
    public byte[] Content { get; }

    /// <summary>Reads and validates the model within <paramref name="limits"/> (DSG01xx errors).</summary>
    public static ModelContent Read(string path, ModelLimits limits)
    {
        var full = Path.GetFullPath(path);
        var bytes = OnnxModel.ReadFile(full);
        var model = OnnxModel.FromBytes(bytes, Path.GetDirectoryName(full), full, limits);
        if (!model.HasExternalData())
        {
            return new ModelContent(model, bytes);
        }

        using var buffer = new MemoryStream();
        buffer.Write(bytes);
        foreach (var tensor in OnnxModel.EnumerateTensors(model.Graph).Where(OnnxTensor.IsExternal))
        {
            buffer.Write(OnnxTensor.ReadRawBytes(tensor, model));
        }

        return new ModelContent(model, buffer.ToArray());
    }

    /// <summary>
    /// The cache key: the content, the settings that affect the output (a calibration file by its content's
    /// SHA-256, never its path; the refinement's steps only when a refinement runs), the tool's release version and the
    /// algorithm version.
    /// </summary>
    public string CacheKey(DsgOptions options, string toolVersion)
    {
        var settings = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var definition in OptionCatalog.All.Where(d => d.AffectsOutput))
        {
            settings[definition.ConfigKey] = definition.Name switch
            {
                nameof(DsgOptions.CalibrationData) => options.CalibrationData is null ? null : Dsg.Core.Caching.CacheKey.HashFile(options.CalibrationData),
                // The steps of a refinement that does not run change nothing.
                nameof(DsgOptions.RefineIterations) when options.Refine == "none" => null,
                _ => definition.Format(options),
            };
        }

        return Dsg.Core.Caching.CacheKey.Compute(Content, settings, toolVersion);
    }

    /// <summary>A short description of the settings for <c>cache list</c>.</summary>
    public static string Describe(DsgOptions options) => options.CalibrationData is null
        ? string.Create(CultureInfo.InvariantCulture, $"{options.Precision} {options.Method} {options.Samples} samples x {options.Iterations} it, seed {options.Seed}, recipe {options.Recipe}, observer {options.Observer ?? "(recipe)"}")
        : string.Create(CultureInfo.InvariantCulture, $"{options.Precision} real calibration data, recipe {options.Recipe}, observer {options.Observer ?? "(recipe)"}");
}
