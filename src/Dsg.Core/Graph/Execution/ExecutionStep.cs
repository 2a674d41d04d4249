namespace Dsg.Core.Graph.Execution;

/// <summary>One node that runs on every forward pass: its kernel and where it reads and writes in the slot array.</summary>
internal sealed class ExecutionStep(OperatorKernel kernel, string opType, string displayName, int[] inputSlots, int[] outputSlots)
{
    /// <summary>The kernel.</summary>
    public OperatorKernel Kernel { get; } = kernel;

    /// <summary>The ONNX op type.</summary>
    public string OpType { get; } = opType;

    /// <summary>The node, for messages.</summary>
    public string DisplayName { get; } = displayName;

    /// <summary>The slot of each input position; -1 for an absent optional input.</summary>
    public int[] InputSlots { get; } = inputSlots;

    /// <summary>The slot of each output position; -1 when nothing reads it.</summary>
    public int[] OutputSlots { get; } = outputSlots;

    /// <summary>The BatchNorm layer index whose input this step taps; -1 for none.</summary>
    public int TapIndex { get; set; } = -1;
}
