using TorchSharp;

namespace Dsg.Core.Graph.Execution;

/// <summary>Turns a failure to load TorchSharp's native libraries into DSG0401.</summary>
internal static class TorchRuntime
{
    /// <summary>Touches libtorch once, so that a missing or unloadable native library surfaces as a coded error.</summary>
    /// <exception cref="DsgException">DSG0401.</exception>
    public static void EnsureLoaded()
    {
        try
        {
            _ = torch.get_num_threads();
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or NotSupportedException or BadImageFormatException)
        {
            var inner = e is TypeInitializationException { InnerException: { } cause } ? cause : e;
            throw new DsgException(ErrorCodes.TorchUnavailable,
                $"TorchSharp's native libraries could not be loaded: {inner.Message.Split('\n')[0]}",
                "Dsg needs Linux x64 with glibc 2.31+ and libstdc++ from GCC 12+ (Debian 12, Ubuntu 22.04 or later); reinstall the tool if files are missing.",
                e);
        }
    }
}
