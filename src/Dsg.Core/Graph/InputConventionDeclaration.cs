namespace Dsg.Core.Graph;

/// <summary>
/// What a user declared about a model's input convention (<c>--input-mean</c>, <c>--input-std</c>,
/// <c>--input-range</c>); every part is optional. <see cref="InputConventionInference.Resolve"/> fills the parts not
/// given from the model.
/// </summary>
/// <param name="Mean">Per-channel mean in the model's input units; one value means every channel. Null: not declared.</param>
/// <param name="Std">Per-channel standard deviation (positive); one value means every channel. Null: not declared.</param>
/// <param name="Range">The interval every input value lies in. Null: not declared.</param>
public sealed record InputConventionDeclaration(
    IReadOnlyList<double>? Mean = null,
    IReadOnlyList<double>? Std = null,
    InputRange? Range = null)
{
    /// <summary>Nothing declared: the convention is inferred from the model.</summary>
    public static InputConventionDeclaration None { get; } = new();

    /// <summary>Whether nothing was declared.</summary>
    public bool IsEmpty => Mean is null && Std is null && Range is null;
}
