namespace Dsg.Core.Onnx.Import;

/// <summary>
/// A model in the form the rest of Dsg works on: weights as initializers, no initializer listed as a graph input,
/// and a default-domain opset of at least <see cref="ModelImporter.MinimumOpset"/>.
/// </summary>
/// <param name="Model">The canonical copy (the loaded model is left untouched).</param>
/// <param name="OriginalOpset">The default-domain opset the file declared.</param>
/// <param name="Changes">What was rewritten, one line each, for reports and <c>inspect</c>; empty when nothing was.</param>
public sealed record ImportedModel(OnnxModel Model, long OriginalOpset, IReadOnlyList<string> Changes)
{
    /// <summary>Whether the opset was raised.</summary>
    public bool Upgraded => Model.Opset != OriginalOpset;
}
