namespace Dsg.Build.Tasks;

/// <summary>
/// The 09xx codes the MSBuild integration reports itself. The task assembly does not reference Dsg.Core, so the
/// same constants are repeated in the 09xx section of <c>Dsg.Core.ErrorCodes</c> (a test checks both agree).
/// Errors the tool reports (01xx to 08xx) reach the build with the tool's own code.
/// </summary>
public static class DsgErrorCodes
{
    /// <summary>A <c>DsgQuantize</c> item names a model file that does not exist.</summary>
    public const string ModelFileMissing = "DSG0901";

    /// <summary>A <c>DsgQuantize</c> metadata value is not one the tool accepts.</summary>
    public const string InvalidMetadata = "DSG0902";

    /// <summary>The Dsg tool cannot be started (not installed, or <c>DsgToolPath</c> points nowhere).</summary>
    public const string ToolNotFound = "DSG0903";

    /// <summary>The Dsg tool's version is outside the range this package supports.</summary>
    public const string ToolVersionOutOfRange = "DSG0904";

    /// <summary>The tool failed without reporting a Dsg error (crash, cancellation or unreadable output).</summary>
    public const string ToolFailed = "DSG0905";

    /// <summary>The tool reported success but the quantized model is not where it was asked to write it.</summary>
    public const string ToolOutputMissing = "DSG0906";

    /// <summary>Two <c>DsgQuantize</c> items would write the same output file.</summary>
    public const string DuplicateOutput = "DSG0907";

    /// <summary>A warning: a <c>DsgQuantize</c> metadata name is not a setting (a typo such as <c>Precison</c>); the tool names the nearest one.</summary>
    public const string UnknownMetadata = "DSG0908";
}
