using Dsg.Core.Data;
using Dsg.Core.Graph;

namespace Dsg.Core.Pipeline;

/// <summary>
/// The samples a source produced: some to calibrate on, others (never used for calibration) to verify on. The record
/// owns both sets; disposing it deletes their scratch files.
/// </summary>
/// <param name="Calibration">Calibration samples.</param>
/// <param name="HeldOut">Held-out samples for the agreement check.</param>
/// <param name="Description">Where they came from, for reports (for example "dsg, 256 samples, 500 iterations, seed 0").</param>
/// <param name="Input">The input convention synthetic samples follow (null for real data).</param>
public sealed record CalibrationSamples(CalibrationSet Calibration, CalibrationSet HeldOut, string Description, InputConvention? Input = null)
    : IDisposable
{
    /// <summary>Disposes both sets.</summary>
    public void Dispose()
    {
        Calibration.Dispose();
        HeldOut.Dispose();
    }
}
