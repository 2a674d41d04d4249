namespace Dsg.Core.Onnx;

/// <summary>The ONNX operator domains Dsg tells apart: the default one (empty or "ai.onnx") and everything else.</summary>
public static class OnnxDomain
{
    /// <summary>Whether <paramref name="domain"/> names the default ai.onnx domain (written as "" or "ai.onnx").</summary>
    public static bool IsDefault(string? domain) => string.IsNullOrEmpty(domain) || domain == "ai.onnx";
}
