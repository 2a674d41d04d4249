using TorchSharp;

namespace Dsg.Core.Graph.Execution;

/// <summary>Turns a failure to load TorchSharp's native libraries into DSG0401, and guards against a wrong oneDNN convolution backward.</summary>
internal static class TorchRuntime
{
    /// <summary>
    /// Touches libtorch, so that a missing or unloadable native library surfaces as a coded error, and (once per process)
    /// switches off oneDNN where its convolution backward is wrong (<see cref="OneDnnConvolutionGuard"/>).
    /// </summary>
    /// <exception cref="DsgException">DSG0401.</exception>
    public static void EnsureLoaded()
    {
        try
        {
            _ = torch.get_num_threads();
            _ = OneDnnConvolutionGuard.Suspect;
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
