namespace Dsg.Core.Inspection;

/// <summary>How far the executor's value of one graph output is from ONNX Runtime's.</summary>
/// <param name="Name">The output name.</param>
/// <param name="MaxAbsDifference">The largest element-wise absolute difference; +∞ when the shapes differ or only one side is NaN.</param>
public sealed record OutputDifference(string Name, double MaxAbsDifference);
