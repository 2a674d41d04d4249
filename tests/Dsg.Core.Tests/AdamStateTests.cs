using TorchSharp;

namespace Dsg.Core.Tests;

public sealed class AdamStateTests
{
    private static readonly double[] Targets = [3.0, -2.0, 0.5];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void StepsFollowTheAdamAndRectifiedAdamFormulasAndZeroTheGradient(bool rectified)
    {
        const double learningRate = 0.05;
        using var parameter = new TorchSharp.Modules.Parameter(torch.zeros(3), requires_grad: true);
        using var adam = new AdamState(parameter, learningRate, rectified);
        var expected = new double[3];
        var m = new double[3];
        var v = new double[3];
        for (int t = 1; t <= 20; t++)
        {
            using (var scope = torch.NewDisposeScope())
            {
                // Loss Σ ½(p − target)², gradient p − target.
                using var target = torch.tensor(Targets.Select(x => (float)x).ToArray());
                parameter.sub(target).Squared().sum().Times(0.5).backward();
            }

            adam.Step();
            Assert.All(parameter.grad!.data<float>().ToArray(), g => Assert.Equal(0f, g));
            ReferenceStep(expected, m, v, t, learningRate, rectified);
            var actual = parameter.data<float>().ToArray();
            for (int i = 0; i < actual.Length; i++)
            {
                Assert.Equal(expected[i], actual[i], 1e-5);
            }
        }

        // The rectified form takes plain momentum steps first, so after 20 steps the two differ.
        Assert.NotEqual(0, expected[0]);
    }

    [Fact]
    public void RectifiedAdamStartsWithMomentumStepsAndAdamDoesNot()
    {
        // With a gradient of 1 the first Adam step is the learning rate; the first rectified step is the bias-corrected
        // momentum times the learning rate, also the learning rate, but from step 2 on they differ until ρ_t > 5.
        var plain = FirstSteps(rectified: false);
        var rectified = FirstSteps(rectified: true);
        Assert.Equal(plain[0], rectified[0], 1e-6);
        Assert.NotEqual(plain[5], rectified[5], 1e-6);
    }

    [Fact]
    public void TheLearningRateCanChangeBetweenSteps()
    {
        using var parameter = new TorchSharp.Modules.Parameter(torch.zeros(1), requires_grad: true);
        using var adam = new AdamState(parameter, 0.1);
        parameter.sum().backward();
        adam.Step();
        float first = parameter.data<float>()[0];
        adam.LearningRate = 0.01;
        parameter.sum().backward();
        adam.Step();
        // A constant gradient gives Adam steps of the learning rate: −0.1, then −0.01.
        Assert.Equal(-0.1f, first, 1e-5f);
        Assert.Equal(-0.11f, parameter.data<float>()[0], 1e-5f);
    }

    private static double[] FirstSteps(bool rectified)
    {
        using var parameter = new TorchSharp.Modules.Parameter(torch.zeros(1), requires_grad: true);
        using var adam = new AdamState(parameter, 0.1, rectified);
        var values = new double[8];
        for (int t = 0; t < values.Length; t++)
        {
            using (var scope = torch.NewDisposeScope())
            {
                // Gradient 1, then growing: the second moment lags, so momentum and Adam steps part.
                parameter.sum().Times(1.0 + t).backward();
            }

            adam.Step();
            values[t] = parameter.data<float>()[0];
        }

        return values;
    }

    /// <summary>PyTorch's Adam and RAdam (β 0.9 / 0.999, ε 1e-8, no weight decay), in doubles.</summary>
    private static void ReferenceStep(double[] p, double[] m, double[] v, int t, double lr, bool rectified)
    {
        const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
        double c1 = 1 - Math.Pow(b1, t), c2 = 1 - Math.Pow(b2, t);
        double rhoInf = (2 / (1 - b2)) - 1;
        double rho = rhoInf - (2 * t * Math.Pow(b2, t) / c2);
        for (int i = 0; i < p.Length; i++)
        {
            double g = (float)p[i] - Targets[i];
            m[i] = (b1 * m[i]) + ((1 - b1) * g);
            v[i] = (b2 * v[i]) + ((1 - b2) * g * g);
            if (!rectified)
            {
                p[i] -= lr / c1 * m[i] / ((Math.Sqrt(v[i]) / Math.Sqrt(c2)) + eps);
            }
            else if (rho > 5)
            {
                double rect = Math.Sqrt((rho - 4) * (rho - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rho));
                p[i] -= m[i] / c1 * lr * rect * Math.Sqrt(c2) / (Math.Sqrt(v[i]) + eps);
            }
            else
            {
                p[i] -= m[i] / c1 * lr;
            }
        }
    }
}
