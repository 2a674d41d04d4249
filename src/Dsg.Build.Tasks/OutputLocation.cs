namespace Dsg.Build.Tasks;

/// <summary>Where one item's quantized model goes.</summary>
internal sealed class OutputLocation
{
    public OutputLocation(string outputName, string link, string logicalName)
    {
        OutputName = outputName;
        Link = link;
        LogicalName = logicalName;
    }

    /// <summary>The output file name, e.g. <c>resnet.int8.onnx</c>.</summary>
    public string OutputName { get; }

    /// <summary>Where the output goes relative to the output folder (and under the intermediate folder).</summary>
    public string Link { get; }

    /// <summary>The manifest resource name when the output is embedded.</summary>
    public string LogicalName { get; }
}
