using static TorchSharp.torch;

namespace Dsg.Core.Generation;

/// <summary>The running statistics of one BatchNorm layer: mean μ and σ = sqrt(var + ε_bn), both float32 [C] without grad.</summary>
internal sealed class BatchNormTarget : IDisposable
{
    public BatchNormTarget(string name, Tensor mean, Tensor sigma)
    {
        Name = name;
        Mean = mean;
        Sigma = sigma;
    }

    public string Name { get; }

    public Tensor Mean { get; }

    public Tensor Sigma { get; }

    public long Channels => Mean.shape[0];

    /// <summary>Builds a target from the running mean and variance and the node's epsilon.</summary>
    public static BatchNormTarget FromRunningStatistics(string name, Tensor mean, Tensor variance, double epsilon, Device device)
    {
        using var scope = NewDisposeScope();
        var m = mean.detach().to(float32).to(device).clone();
        var s = variance.detach().to(float64).Plus(epsilon).sqrt().to(float32).to(device);
        return new BatchNormTarget(name, m.DetachFromDisposeScope(), s.DetachFromDisposeScope());
    }

    public void Dispose()
    {
        Mean.Dispose();
        Sigma.Dispose();
    }
}
