using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Dsg.Core.Graph.Execution;

/// <summary>
/// On some CPUs (seen on an AMD EPYC family 26 VM, libtorch 2.10 / oneDNN 3.7.1) oneDNN's float32 convolution
/// backward-data and deconvolution kernels (jit:avx2 and jit:avx512_core) apply only the first kernel tap, so the
/// image gradient of every generation step and every ConvTranspose output is wrong (and varies with threading),
/// while the forward convolution is right. When libtorch is first loaded (<see cref="TorchRuntime.EnsureLoaded"/>), both
/// paths are probed on a tiny batch; when either is wrong, libtorch's oneDNN (mkldnn) backend is switched off for the
/// process and libtorch uses its native convolutions instead. On a correct CPU nothing changes.
/// <para>
/// The native convolutions are about 4× slower than oneDNN's at 224×224 (docs/performance.md), and only the backward
/// kernels are wrong. libtorch chooses a convolution's backend when the convolution runs, forward and backward
/// separately, from the global flag at that moment. So when the forward probe is right, <see cref="Forward{T}"/> runs
/// a forward pass with oneDNN switched back on, and <see cref="Backward"/> runs a backward pass with it off. The flag is
/// global: both take one lock, so no backward of another thread can run while a forward has oneDNN on.
/// </para>
/// </summary>
internal static class OneDnnConvolutionGuard
{
    private static readonly Lazy<(bool Disabled, bool ForwardCorrect)> s_state = new(Probe);
    private static readonly Lock s_lock = new();

    /// <summary>Probes once per process (later calls return the first answer): true when oneDNN was found wrong and switched off.</summary>
    public static bool Apply() => s_state.Value.Disabled;

    /// <summary>
    /// Whether forward passes run with oneDNN while backward passes do not. Off: where the probe finds the backward
    /// kernels wrong, a forward pass with oneDNN on also went wrong on a trained net the probe passed (NaN class scores
    /// and BatchNorm inputs from finite noise on testassets/family/tune_resnet14_wide.onnx at batch 64, finite with the
    /// native kernels; <c>SampleGeneratorFamilyTests</c>), so the tiny-batch forward probe is not evidence enough and
    /// every pass runs with the native kernels there. The split stays for when a forward probe can be trusted.
    /// </summary>
    public static bool SplitsForwardAndBackward => s_state.Value is { Disabled: true, ForwardCorrect: true } && TrustForwardProbe;

    /// <summary>Whether a passing forward probe is enough to run forward passes with oneDNN (see <see cref="SplitsForwardAndBackward"/>).</summary>
    private const bool TrustForwardProbe = false;

    /// <summary>Runs a forward pass: with oneDNN on where only its backward kernels are wrong, as libtorch chose otherwise.</summary>
    public static T Forward<T>(Func<T> forward) => WithOneDnn(true, forward);

    /// <summary>Back-propagates <paramref name="loss"/> with the native convolutions where oneDNN's backward kernels are wrong.</summary>
    public static void Backward(Tensor loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        Native(() =>
        {
            loss.backward();
            return true;
        });
    }

    /// <summary>
    /// Runs <paramref name="work"/> with the convolutions libtorch chose (the native ones where oneDNN is wrong), never
    /// while another thread's <see cref="Forward{T}"/> has oneDNN on, and with oneDNN off even inside a forward pass of
    /// this thread: for backward passes and deconvolutions.
    /// </summary>
    public static T Native<T>(Func<T> work) => WithOneDnn(false, work);

    /// <summary>
    /// Runs <paramref name="work"/> under the lock with oneDNN on or off, and restores the state it found, so scopes nest
    /// (a graph's native deconvolution inside a generator's forward pass stays native).
    /// </summary>
    private static T WithOneDnn<T>(bool enabled, Func<T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (!SplitsForwardAndBackward)
        {
            return work();
        }

        lock (s_lock)
        {
            bool previous = UserEnabledMkldnn(GlobalContext());
            SetUserEnabledMkldnn(GlobalContext(), enabled);
            try
            {
                return work();
            }
            finally
            {
                SetUserEnabledMkldnn(GlobalContext(), previous);
            }
        }
    }

    private static (bool Disabled, bool ForwardCorrect) Probe()
    {
        try
        {
            int threads = get_num_threads();
            var (backward, forward) = ProbeIsCorrect();
            set_num_threads(1);
            var (backwardOne, forwardOne) = ProbeIsCorrect();
            set_num_threads(threads);
            bool correct = backward && backwardOne;
            if (!correct)
            {
                // Without oneDNN libtorch would try NNPACK next, which on such CPUs prints "Could not initialize NNPACK"
                // for every convolution and then uses its native kernels anyway: go to those directly.
                SetUserEnabledNnpack(GlobalContext(), false);
                SetUserEnabledMkldnn(GlobalContext(), false);
                return (!UserEnabledMkldnn(GlobalContext()), forward && forwardOne);
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException)
        {
            // A libtorch without these symbols: nothing to switch (the test OneDnnConvolutionGuardTests shows whether it matters).
        }

        return (false, true);
    }

    /// <summary>
    /// A 2×1×5×5 batch (a batch of two goes to oneDNN) through a 3×3 all-ones kernel with padding 1: every position
    /// of both the deconvolution of ones and the input gradient of the convolution's sum counts the taps covering it
    /// (4 at corners, 6 on edges, 9 inside), 169 per sample; so does the forward convolution of ones. Returns whether
    /// the backward kernels (input gradient and deconvolution) and the forward one are right.
    /// </summary>
    private static (bool Backward, bool Forward) ProbeIsCorrect()
    {
        using var scope = NewDisposeScope();
        var weight = ones(1, 1, 3, 3);
        var input = zeros(2, 1, 5, 5).requires_grad_(true);
        var gradient = autograd.grad([nn.functional.conv2d(input, weight, padding: [1, 1]).sum()], [input])[0];
        Tensor deconvolution, convolution;
        using (no_grad())
        {
            deconvolution = nn.functional.conv_transpose2d(ones(2, 1, 5, 5), weight, padding: [1, 1]);
            convolution = nn.functional.conv2d(ones(2, 1, 5, 5), weight, padding: [1, 1]);
        }

        bool backward = gradient.sum().item<float>() == 338 && deconvolution.sum().item<float>() == 338
            && gradient.min().item<float>() == 4 && deconvolution.min().item<float>() == 4;
        bool forward = convolution.sum().item<float>() == 338 && convolution.min().item<float>() == 4 && convolution.max().item<float>() == 9;
        return (backward, forward);
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
