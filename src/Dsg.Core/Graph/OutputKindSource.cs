namespace Dsg.Core.Graph;

/// <summary>How an <see cref="OutputKind"/> was decided.</summary>
public enum OutputKindSource
{
    /// <summary>From the ONNX graph: the node chain that produces the output, and its declared shape.</summary>
    Graph,

    /// <summary>From a forward pass on the executor: the output's actual shape, and whether its rows sum to 1.</summary>
    Probe,

    /// <summary>Given by the user (<c>--output-kind</c>), after a check that the output's shape allows it.</summary>
    Requested,
}
