using Dsg.Core.Quantization;
using Dsg.Core.Quantization.Refinement;
using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core.Tests.Quantization.Refinement;

public sealed class LearnedStepSizeTests
{
    [Theory]
    [InlineData(0.01f)]
    [InlineData(1f)]
    [InlineData(40f)]
    public void AStepSizeMovesByTheRelativeRateTimesItsCalibratedValueOnItsFirstStep(float calibrated)
    {
        var site = new ActivationCalibration(new ActivationSite("t", 4, "activation"), 0f, 15f * calibrated,
            new QuantParams(calibrated, 0, IntegerGrid.Unsigned(4)));
        using var quantizer = new LearnedStepSize(site);
        using (var scope = NewDisposeScope())
        {
            // Values between grid points and past the top of the grid: the loss's gradient with respect to the step size is not zero.
            var x = tensor(new[] { 0.3f, 2.6f, 7.4f, 20f, 31f }.Select(v => v * calibrated).ToArray());
            quantizer.Apply(x, learned: true, null, null).sum().backward();
        }

        quantizer.Step();

        // Adam's first step moves a parameter by its learning rate (the bias-corrected moments give ±1 per unit of rate).
        double moved = Math.Abs(quantizer.LearnedParams().Scale - calibrated);
        Assert.Equal(BlockReconstruction.RelativeScaleLearningRate * calibrated, moved, (BlockReconstruction.RelativeScaleLearningRate * calibrated) * 1e-2);
    }
}
