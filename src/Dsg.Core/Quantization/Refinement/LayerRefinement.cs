namespace Dsg.Core.Quantization.Refinement;

/// <summary>What refinement did to one layer.</summary>
/// <param name="Node">The layer's node.</param>
/// <param name="Initializer">Its weight's initializer.</param>
/// <param name="Iterations">Optimiser steps taken.</param>
/// <param name="NearestError">The layer's reconstruction error over every calibration sample with the weights rounded to nearest.</param>
/// <param name="LearnedError">The same with the learned rounding.</param>
/// <param name="Changed">The fraction of the weight's integers that differ from nearest rounding.</param>
/// <param name="Seconds">Wall time, including collecting the layer's inputs and targets.</param>
public sealed record LayerRefinement(string Node, string Initializer, int Iterations, double NearestError, double LearnedError, double Changed, double Seconds);
