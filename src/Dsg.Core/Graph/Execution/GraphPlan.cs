using static TorchSharp.torch;

namespace Dsg.Core.Graph.Execution;

/// <summary>Everything a forward pass needs, computed once at load.</summary>
internal sealed class GraphPlan
{
    private readonly int[]?[][] _freeAfter = new int[]?[4][];

    public required int SlotCount { get; init; }

    /// <summary>The tensor name of each slot.</summary>
    public required string[] SlotNames { get; init; }

    /// <summary>Constant values by slot (null where computed at run time). Owned by the graph.</summary>
    public required Tensor?[] Constants { get; init; }

    /// <summary>Slots whose tensors do not belong to a forward pass (constants and graph inputs).</summary>
    public required bool[] External { get; init; }

    public required ExecutionStep[] Steps { get; init; }

    public required string[] InputNames { get; init; }

    public required int[] InputSlots { get; init; }

    /// <summary>The element type each graph input is declared with (null when unknown).</summary>
    public required ScalarType?[] InputTypes { get; init; }

    public required string[] OutputNames { get; init; }

    public required int[] OutputSlots { get; init; }

    /// <summary>The step index after which each slot is last read; -1 when never read by a step.</summary>
    public required int[] LastUse { get; init; }

    /// <summary>The slot each BatchNorm layer reads.</summary>
    public required int[] TapSlots { get; init; }

    /// <summary>The step whose input 0 is the penultimate feature tensor; -1 when there is none.</summary>
    public required int FeatureStep { get; init; }

    public int MaxInputs => Steps.Length == 0 ? 0 : Steps.Max(s => s.InputSlots.Length);

    public int MaxOutputs => Steps.Length == 0 ? 0 : Steps.Max(s => s.OutputSlots.Length);

    /// <summary>
    /// For each step, the slots whose tensors can be disposed once it has run: produced in this pass, not a graph
    /// output, not read later, and (when BN inputs are captured) not a tap.
    /// </summary>
    public int[]?[] FreeAfter(ForwardCapture capture)
    {
        int key = (int)capture & 3;
        var cached = Volatile.Read(ref _freeAfter[key]);
        if (cached is not null)
        {
            return cached;
        }

        var keep = (bool[])External.Clone();
        foreach (var slot in OutputSlots)
        {
            keep[slot] = true;
        }

        if (capture.HasFlag(ForwardCapture.BatchNormInputs))
        {
            foreach (var slot in TapSlots)
            {
                keep[slot] = true;
            }
        }

        var lists = new List<int>?[Steps.Length];
        for (int i = 0; i < Steps.Length; i++)
        {
            foreach (var slot in Steps[i].OutputSlots)
            {
                if (slot < 0 || keep[slot])
                {
                    continue;
                }

                int after = Math.Max(LastUse[slot], i);
                (lists[after] ??= []).Add(slot);
            }
        }

        var result = lists.Select(l => l?.ToArray()).ToArray();
        Volatile.Write(ref _freeAfter[key], result);
        return result;
    }
}
