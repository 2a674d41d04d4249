using Dsg.Core.Graph;
using Dsg.Core.Onnx;

namespace Dsg.Core.Pipeline;

/// <summary>Where <see cref="QuantizePipeline"/> gets its samples: a generator or a file of real data.</summary>
public interface ICalibrationSource
{
    /// <summary>A short name for reports and cache keys ("dsg", "zeroq", "gaussian", "file").</summary>
    string Name { get; }

    /// <summary>Whether the source optimises its samples (so their count and iterations cost time in proportion to the model's size).</summary>
    bool Optimises { get; }

    /// <summary>Whether the source builds the TorchSharp executor (so the model must run in it before any work starts).</summary>
    bool RunsExecutor { get; }

    /// <summary>Whether the source matches the model's BatchNorm statistics (so the model must have some).</summary>
    bool NeedsBatchNorm { get; }

    /// <summary>Produces <paramref name="samples"/> calibration samples and <paramref name="heldOut"/> other samples.</summary>
    /// <param name="model">The fp32 model.</param>
    /// <param name="sampleShape">The shape of one sample (C, H, W).</param>
    /// <param name="output">What the model's first output holds (a generator chooses its class term by it).</param>
    /// <param name="samples">How many calibration samples.</param>
    /// <param name="heldOut">How many held-out samples.</param>
    /// <param name="iterations">Optimiser steps per batch (ignored by sources that do not optimise).</param>
    /// <param name="seed">The seed.</param>
    /// <param name="progress">Receives <see cref="ProgressEvent"/>s for the generate phase.</param>
    /// <param name="ct">Cancels the work.</param>
    CalibrationSamples Produce(OnnxModel model, long[] sampleShape, DetectedOutput output, int samples, int heldOut, int iterations, int seed,
        IProgress<PipelineEvent>? progress, CancellationToken ct);
}
