namespace Dsg.Tool.Commands;

/// <summary>What <c>inspect --verify</c> measured: each output's max absolute difference between the TorchSharp executor and ONNX Runtime.</summary>
internal sealed record InspectVerification(int BatchSize, int Seed, IReadOnlyList<(string Name, double MaxAbsDifference)> Outputs, double MaxAbsDifference);
