using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Dsg.Core.Graph.Execution;

/// <summary>
/// On some CPUs (seen on an AMD EPYC family 26 VM, libtorch 2.10 / oneDNN 3.7.1) oneDNN's float32 convolution
/// backward-data and deconvolution kernels (jit:avx2 and jit:avx512_core) apply only the first kernel tap, so the
/// image gradient of every generation step and every ConvTranspose output is wrong (and varies with threading).
/// When libtorch is first loaded (<see cref="TorchRuntime.EnsureLoaded"/>), the backward paths are probed on a tiny
/// batch; when either is wrong, libtorch's oneDNN (mkldnn) backend is switched off for the process and libtorch uses
/// its native convolutions, forward and backward. On a correct CPU nothing changes.
/// <para>
/// Running only the forward passes with oneDNN there (it passes the same tiny-batch probe) was tried and withdrawn:
/// it gave NaN class scores and BatchNorm inputs from finite noise on testassets/family/tune_resnet14_wide.onnx at
/// batch 64, where the native kernels give finite ones (<c>SampleGeneratorFamilyTests</c>; docs/performance.md).
/// </para>
/// </summary>
internal static class OneDnnConvolutionGuard
{
    private static readonly Lazy<bool> s_disabled = new(Probe);

    /// <summary>Probes once per process (later calls return the first answer): true when oneDNN was found wrong and switched off.</summary>
    public static bool Apply() => s_disabled.Value;

    private static bool Probe()
    {
        try
        {
            int threads = get_num_threads();
            bool correct = BackwardIsCorrect();
            set_num_threads(1);
            correct &= BackwardIsCorrect();
            set_num_threads(threads);
            if (!correct)
            {
                // Without oneDNN libtorch would try NNPACK next, which on such CPUs prints "Could not initialize NNPACK"
                // for every convolution and then uses its native kernels anyway: go to those directly.
                SetUserEnabledNnpack(GlobalContext(), false);
                SetUserEnabledMkldnn(GlobalContext(), false);
                return !UserEnabledMkldnn(GlobalContext());
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException)
        {
            // A libtorch without these symbols: nothing to switch (the test OneDnnConvolutionGuardTests shows whether it matters).
        }

        return false;
    }

    /// <summary>
    /// A 2×1×5×5 batch (a batch of two goes to oneDNN) through a 3×3 all-ones kernel with padding 1: every position
    /// of both the deconvolution of ones and the input gradient of the convolution's sum counts the taps covering it
    /// (4 at corners, 6 on edges, 9 inside), 169 per sample. Returns whether both backward kernels are right.
    /// </summary>
    private static bool BackwardIsCorrect()
    {
        using var scope = NewDisposeScope();
        var weight = ones(1, 1, 3, 3);
        var input = zeros(2, 1, 5, 5).requires_grad_(true);
        var gradient = autograd.grad([nn.functional.conv2d(input, weight, padding: [1, 1]).sum()], [input])[0];
        Tensor deconvolution;
        using (no_grad())
        {
            deconvolution = nn.functional.conv_transpose2d(ones(2, 1, 5, 5), weight, padding: [1, 1]);
        }

        return gradient.sum().item<float>() == 338 && deconvolution.sum().item<float>() == 338
            && gradient.min().item<float>() == 4 && deconvolution.min().item<float>() == 4;
    }

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    private static extern IntPtr GlobalContext();

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    private static extern void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
    private static extern void SetUserEnabledNnpack(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [DllImport("libtorch_cpu", EntryPoint = "_ZNK2at7Context17userEnabledMkldnnEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static extern bool UserEnabledMkldnn(IntPtr context);
}
