using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Dsg.Core.Graph.Execution;

/// <summary>
/// On some CPUs (seen on an AMD EPYC family 26 VM, libtorch 2.10 / oneDNN 3.7.1) oneDNN's float32 convolutions are
/// wrong for some shapes: measured there, every k×k convolution (k &gt; 1, not depthwise) whose reduced channel count
/// is not a multiple of 16 (a forward pass over 24 or 40 input channels, an input gradient over 8, 24 or 40 output
/// channels; errors of 15–50 % or NaN), while 1×1, depthwise and 16-multiple ones (every convolution of ResNet-18/50
/// and MobileNetV2) match float64. When libtorch is first loaded (<see cref="TorchRuntime.EnsureLoaded"/>), the
/// backward paths are probed on a tiny one-channel batch; when either is wrong, oneDNN is <see cref="Suspect"/>: it is
/// switched off for the process, and each graph whose every convolution has a shape oneDNN was never seen wrong for
/// (<see cref="ShapeSeenRight"/>) checks, per batch size, whether oneDNN gives the same outputs, BatchNorm inputs and
/// input gradient as the native kernels on that graph (<c>TorchGraph.KernelsFor</c>). A graph that passes runs with oneDNN (about 4.7× faster than the native kernels at 224×224, docs/performance.md); one that
/// fails runs natively. The flag libtorch reads is global and read when each convolution runs, forward or backward,
/// so <see cref="Run{T}"/> lets passes that want the same kernels run together and keeps the others waiting.
/// On a correct CPU nothing changes and nothing waits.
/// </summary>
internal static class OneDnnConvolutionGuard
{
    private static readonly Lazy<bool> s_disabled = new(Probe);
    private static readonly object s_lock = new();
    private static bool s_enabled;
    private static int s_active;

    /// <summary>
    /// Whether oneDNN was found wrong on this CPU and switched off for the process, so graphs choose their kernels (see
    /// the class remarks). The first read probes; later reads return its answer.
    /// </summary>
    public static bool Suspect => s_disabled.Value;

    /// <summary>
    /// Runs <paramref name="work"/> (a forward or backward pass) with <paramref name="kernels"/>: at once where oneDNN is
    /// not <see cref="Suspect"/>; otherwise once no pass that wants the other kernels is running, with libtorch's flag
    /// set for them (<see cref="ConvolutionKernels.Process"/> is the native kernels there). Passes that want the same
    /// kernels run together. A pass must not start another pass that wants the other kernels (it would wait for itself).
    /// </summary>
    public static T Run<T>(ConvolutionKernels kernels, Func<T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        using var pass = Enter(kernels);
        return work();
    }

    /// <summary><see cref="Run{T}"/> as a scope: the pass holds its kernels until the result is disposed.</summary>
    public static IDisposable Enter(ConvolutionKernels kernels)
    {
        if (!Suspect)
        {
            return NoPass.Instance;
        }

        bool enabled = kernels == ConvolutionKernels.OneDnn;
        lock (s_lock)
        {
            while (s_active > 0 && s_enabled != enabled)
            {
                Monitor.Wait(s_lock);
            }

            if (s_enabled != enabled)
            {
                SetUserEnabledMkldnn(GlobalContext(), enabled);
                s_enabled = enabled;
            }

            s_active++;
        }

        return new Pass();
    }

    /// <summary>
    /// Whether a convolution has a shape oneDNN was only ever seen right for where it is <see cref="Suspect"/>: 1×1,
    /// depthwise, or a plain k×k convolution with a multiple of 16 output channels and at most 8 or a multiple of 16
    /// input channels. A check on the graph can pass by chance for the other shapes (tests/Dsg.Core.Tests'
    /// tiny_cnn, 1 → 4 → 8 channels, passed three checks and then gave NaN images), so they never run with oneDNN there.
    /// </summary>
    public static bool ShapeSeenRight(long outChannels, long inChannelsPerGroup, long groups, IReadOnlyList<long> kernel)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        return kernel.All(k => k == 1)
            || (groups == outChannels && inChannelsPerGroup == 1)
            || (groups == 1 && outChannels % 16 == 0 && (inChannelsPerGroup <= 8 || inChannelsPerGroup % 16 == 0));
    }

    /// <summary>Whether libtorch's oneDNN flag is on now (for tests).</summary>
    internal static bool OneDnnEnabled => UserEnabledMkldnn(GlobalContext());

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

    /// <summary>A pass that holds the flag: leaving it lets passes that want the other kernels in.</summary>
    private sealed class Pass : IDisposable
    {
        private int _left;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _left, 1) != 0)
            {
                return;
            }

            lock (s_lock)
            {
                if (--s_active == 0)
                {
                    Monitor.PulseAll(s_lock);
                }
            }
        }
    }

    /// <summary>Where oneDNN is right: nothing to hold.</summary>
    private sealed class NoPass : IDisposable
    {
        public static NoPass Instance { get; } = new();

        public void Dispose()
        {
        }
    }
}
