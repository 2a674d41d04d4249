using Dsg.Core.Graph;
using static TorchSharp.torch;

namespace Dsg.Core.Generation;

/// <summary>Adapts a <see cref="TorchGraph"/> to what the generator needs; owns the BN targets it derives (σ = sqrt(var + ε)).</summary>
internal sealed class TorchGraphGenerationModel : IGenerationModel, IDisposable
{
    private readonly TorchGraph _graph;
    private readonly BatchNormTarget[] _targets;

    public TorchGraphGenerationModel(TorchGraph graph)
    {
        _graph = graph;
        _targets = graph.BatchNormLayers
            .Select(l => BatchNormTarget.FromRunningStatistics(l.NodeName, l.Mean, l.Variance, l.Epsilon, graph.Device))
            .ToArray();
    }

    public long[] InputShape => _graph.InputShape;

    public Device Device => _graph.Device;

    public IReadOnlyList<BatchNormTarget> BatchNorms => _targets;

    public ModelPass Forward(Tensor input, bool captureBatchNormMoments, bool captureFeatures)
    {
        var capture = (captureBatchNormMoments ? ForwardCapture.BatchNormMoments : ForwardCapture.None)
            | (captureFeatures ? ForwardCapture.Features : ForwardCapture.None);
        var outputs = _graph.Forward(input, capture);
        var moments = outputs.BatchNormMoments.Select(ActivationStatistics.FromRawMoments).ToList();
        return new ModelPass(outputs.Outputs[0], moments, outputs.Features) { Kernels = outputs.Kernels };
    }

    public void Dispose()
    {
        foreach (var target in _targets)
        {
            target.Dispose();
        }
    }
}
