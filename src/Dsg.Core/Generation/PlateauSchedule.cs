namespace Dsg.Core.Generation;

/// <summary>
/// Lowers the learning rate when the loss stops improving, as PyTorch's <c>ReduceLROnPlateau</c> in its defaults (mode
/// min, relative threshold 1e-4, no cooldown): after more than <c>patience</c> steps without a loss below
/// best × (1 − 1e-4), the rate is multiplied by <c>factor</c>, never below <c>minimum</c>.
/// </summary>
internal sealed class PlateauSchedule(double learningRate, double factor, int patience, double minimum)
{
    private const double RelativeThreshold = 1e-4;
    private const double SmallestChange = 1e-8;
    private double _best = double.PositiveInfinity;
    private int _badSteps;

    /// <summary>The learning rate for the next step.</summary>
    public double LearningRate { get; private set; } = learningRate;

    /// <summary>Takes the loss of the step just made and returns the learning rate for the next one.</summary>
    public double Step(double loss)
    {
        if (loss < _best * (1 - RelativeThreshold))
        {
            _best = loss;
            _badSteps = 0;
        }
        else
        {
            _badSteps++;
        }

        if (_badSteps > patience)
        {
            double lowered = Math.Max(LearningRate * factor, minimum);
            if (LearningRate - lowered > SmallestChange)
            {
                LearningRate = lowered;
            }

            _badSteps = 0;
        }

        return LearningRate;
    }
}
