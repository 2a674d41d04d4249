using System.Collections.Concurrent;
using Dsg.Core.Graph.Execution;
using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Import;
using Dsg.Core.Onnx.Proto;
using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core.Graph;

/// <summary>
/// An ONNX graph run as TorchSharp operations, differentiable with respect to its inputs. Weights are
/// constants without gradients; constant sub-graphs are folded at load; each BatchNormalization node with
/// constant statistics is a <see cref="BatchNormLayer"/> whose input a forward pass can capture.
/// Forward passes may run concurrently; <see cref="Dispose"/> must not race them.
/// </summary>
public sealed class TorchGraph : IDisposable
{
    private readonly GraphPlan _plan;
    private readonly Tensor[] _owned;
    private readonly string _displayName;
    private readonly bool _convolves;
    private readonly bool _oneDnnCandidate;
    private readonly ConcurrentDictionary<long, ConvolutionKernels> _kernels = new();

    /// <summary>How many times <see cref="OneDnnAgrees"/> runs oneDNN's forward and backward passes against the native ones.</summary>
    private const int Attempts = 3;

    /// <summary>How many samples of the checked batch <see cref="OneDnnAgrees"/> also runs with the native kernels.</summary>
    private const int ReferenceSamples = 2;
    private long? _fixedBatch;
    private bool _disposed;

    private TorchGraph(GraphPlan plan, IReadOnlyList<BatchNormLayer> layers, Tensor[] owned, long[] inputShape, Device device, string displayName,
        bool oneDnnCandidate)
    {
        _oneDnnCandidate = oneDnnCandidate;
        _plan = plan;
        _owned = owned;
        _displayName = displayName;
        _convolves = plan.Steps.Any(step => step.OpType is "Conv" or "ConvTranspose");
        BatchNormLayers = layers;
        InputShape = inputShape;
        Device = device;
        InputName = plan.InputNames.FirstOrDefault() ?? "";
        OutputNames = plan.OutputNames;
    }

    /// <summary>The name of the (first) graph input.</summary>
    public string InputName { get; }

    /// <summary>The shape of one sample of that input (C,H,W for an image), from the model or the declared shape.</summary>
    public long[] InputShape { get; }

    /// <summary>The graph outputs, in model order.</summary>
    public IReadOnlyList<string> OutputNames { get; }

    /// <summary>The BatchNormalization nodes with constant statistics, in execution (topological) order.</summary>
    public IReadOnlyList<BatchNormLayer> BatchNormLayers { get; }

    /// <summary>The device every weight lives on and every forward pass runs on.</summary>
    public Device Device { get; }

    /// <summary>The only batch size the graph runs with, when the model fixes its batch and breaks with any other; otherwise null.</summary>
    internal long? FixedBatch => _fixedBatch;

    /// <summary>The op types that run on each forward pass, in order (folded nodes excluded). For tests and diagnostics.</summary>
    internal IReadOnlyList<string> StepOpTypes => _plan.Steps.Select(s => s.OpType).ToArray();

    /// <summary>Builds the executor for a model.</summary>
    /// <exception cref="DsgException">
    /// DSG0202 (lists every unsupported op), DSG0203 (dynamic non-batch input dimension and no declared shape),
    /// DSG0205 (an attribute or input form the executor does not support), DSG0503 (declared shape conflicts with
    /// the model), DSG0303 (CUDA requested but unavailable), DSG0301 (unknown device), DSG0106 (malformed graph),
    /// DSG0502 (a constant sub-graph fails to compute), DSG0401 (TorchSharp's native libraries do not load).
    /// </exception>
    public static TorchGraph Create(OnnxModel model, TorchGraphOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new TorchGraphOptions();
        if (GraphPlanner.FindUnsupported(model) is { } unsupported)
        {
            throw unsupported;
        }

        var inputShape = ResolveInputShape(model, options.InputShape);
        TorchRuntime.EnsureLoaded();
        var device = ResolveDevice(options.Device);
        var planner = new GraphPlanner(model, device);
        GraphPlan plan;
        List<BatchNormLayer> layers;
        try
        {
            using (torch.no_grad())
            using (torch.NewDisposeScope())
            {
                plan = planner.Build(out layers);
            }
        }
        catch
        {
            planner.DisposeLoaded();
            throw;
        }

        var owned = plan.Constants.OfType<Tensor>().Concat(planner.Owned).Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor>().ToArray();
        var graph = new TorchGraph(plan, layers, owned, inputShape, device, model.DisplayName, OneDnnCandidate(model));
        try
        {
            if (DeclaredBatch(model) is long batch && plan.InputNames.Length == 1)
            {
                graph._fixedBatch = graph.RunsWithOtherBatchSizes(model, batch) ? null : batch;
            }
        }
        catch
        {
            graph.Dispose();
            throw;
        }

        return graph;
    }

    /// <summary>
    /// Builds the executor for sample generation, which wants batches larger than 1: for a model that fixes its batch
    /// and folded it into Reshape shapes (<see cref="FixedBatchReshapes"/>), the generalised copy is used when it then
    /// runs other batch sizes and matches the model at the declared batch; otherwise the model as it is.
    /// </summary>
    /// <exception cref="DsgException">What <see cref="Create"/> throws.</exception>
    public static TorchGraph CreateForGeneration(OnnxModel model, TorchGraphOptions? options = null)
    {
        var graph = Create(model, options);
        if (graph.FixedBatch is not long batch || FixedBatchReshapes.Generalize(model, batch) is not { } candidate)
        {
            return graph;
        }

        TorchGraph? general = null;
        try
        {
            general = Create(candidate, options);
            if (general.FixedBatch is null && SameOutputs(graph, general, batch))
            {
                graph.Dispose();
                return general;
            }
        }
        catch (DsgException)
        {
            // The copy is only an optimisation: keep the model's own graph.
        }

        general?.Dispose();
        return graph;
    }

    private static bool SameOutputs(TorchGraph a, TorchGraph b, long batch)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        using var generator = new Generator(12345, a.Device);
        var input = torch.randn([batch, .. a.InputShape], generator: generator, device: a.Device);
        var left = a.Forward(input).Outputs;
        var right = b.Forward(input).Outputs;
        return left.Count == right.Count && left.Zip(right).All(p => p.First.shape.SequenceEqual(p.Second.shape) && p.First.allclose(p.Second, 1e-5, 1e-6));
    }

    /// <summary>
    /// Runs the graph on a batch N x <see cref="InputShape"/> of its single input. Gradients flow to
    /// <paramref name="input"/> when it requires them. The input is moved to <see cref="Device"/> and converted to
    /// the declared element type when it differs.
    /// </summary>
    /// <exception cref="DsgException">DSG0501 when the input does not fit; DSG0502 when a node fails.</exception>
    public GraphOutputs Forward(Tensor input, ForwardCapture capture = ForwardCapture.None)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(input);
        if (_plan.InputNames.Length != 1)
        {
            throw new DsgException(ErrorCodes.ExecutorInputMismatch,
                $"'{_displayName}' has {_plan.InputNames.Length} graph inputs; Forward takes exactly one.",
                "Use Run with a tensor per input name.");
        }

        var shape = input.shape;
        if (shape.Length != InputShape.Length + 1 || !shape.AsSpan(1).SequenceEqual(InputShape))
        {
            throw new DsgException(ErrorCodes.ExecutorInputMismatch,
                $"Input '{InputName}' of '{_displayName}' expects N x {string.Join(" x ", InputShape)}, but got [{string.Join(", ", shape)}].",
                "Resize or reshape the data to the model's input shape (or declare the shape the model was exported for).");
        }

        if (_fixedBatch is long batch && shape[0] != batch)
        {
            throw new DsgException(ErrorCodes.ExecutorInputMismatch,
                $"'{_displayName}' was exported with a fixed batch of {batch}, and its graph does not compute other batch sizes (got {shape[0]}).",
                "Re-export with a dynamic batch axis: torch.onnx.export(..., dynamic_axes={\"input\": {0: \"batch\"}}), or run with batches of " +
                batch.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".") { FilePath = _displayName };
        }

        var kernels = KernelsFor(shape[0]);
        return OneDnnConvolutionGuard.Run(kernels, () => Execute([input], capture, shape[0], kernels));
    }

    /// <summary>
    /// The convolution kernels a pass of <paramref name="batch"/> samples runs with. Where oneDNN is
    /// <see cref="OneDnnConvolutionGuard.Suspect"/>, the first pass of each batch size checks it on this graph
    /// (<see cref="OneDnnAgrees"/>) and later passes reuse the answer; elsewhere, and for graphs without convolutions,
    /// the process's kernels.
    /// </summary>
    internal ConvolutionKernels KernelsFor(long batch) =>
        !_convolves || !OneDnnConvolutionGuard.Suspect ? ConvolutionKernels.Process
        : !_oneDnnCandidate ? ConvolutionKernels.Native
        : _kernels.GetOrAdd(batch, b => OneDnnAgrees(b) ? ConvolutionKernels.OneDnn : ConvolutionKernels.Native);

    /// <summary>
    /// Whether every convolution of <paramref name="model"/> has a shape oneDNN may be checked for
    /// (<see cref="OneDnnConvolutionGuard.ShapeSeenRight"/>): no ConvTranspose, and every Conv's weight a known constant.
    /// </summary>
    private static bool OneDnnCandidate(OnnxModel model)
    {
        var constants = new Dictionary<string, TensorProto>(model.Initializers, StringComparer.Ordinal);
        foreach (var node in model.Graph.Node.Where(n => n.OpType == "Constant" && n.Output.Count == 1))
        {
            if (node.Attribute.FirstOrDefault(a => a.Name == "value")?.T is { } value)
            {
                constants[node.Output[0]] = value;
            }
        }

        foreach (var node in model.Graph.Node.Where(n => n.OpType is "Conv" or "ConvTranspose"))
        {
            if (node.OpType == "ConvTranspose" || node.Input.Count < 2 || !constants.TryGetValue(node.Input[1], out var weight) || weight.Dims.Count < 3)
            {
                return false;
            }

            long groups = node.Attribute.FirstOrDefault(a => a.Name == "group") is { } g ? g.I : 1;
            if (!OneDnnConvolutionGuard.ShapeSeenRight(weight.Dims[0], weight.Dims[1], groups, [.. weight.Dims.Skip(2)]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Whether oneDNN computes this graph as the native kernels do for a batch of <paramref name="batch"/> seeded
    /// Gaussian samples: oneDNN runs the whole batch (its kernels depend on the batch size), <see cref="Attempts"/> times
    /// since the wrong kernels are not wrong on every call (a 3→8 convolution at batch 8 was right once in a run where it
    /// was wrong at batches 4 and 64), and the native kernels run only the first <see cref="ReferenceSamples"/> of it
    /// (each sample's outputs and gradient depend on that sample alone; a graph where they do not fails the check and
    /// runs natively). Compared on those samples: every float output and the per-channel mean and mean square of every
    /// BatchNorm input, each within 10⁻³ of the native value's largest magnitude, and the input gradient of a random
    /// projection of the outputs, within 2 × 10⁻² in relative L2 norm (the two forward passes differ by float32 rounding,
    /// which can send a MaxPool window's or a ReLU's gradient another way at a near-tie: a few elements, about 10⁻³ of
    /// the norm each). The wrong kernels seen (<see cref="OneDnnConvolutionGuard"/>) are off by 15–50 % or NaN; right
    /// ones differ by about 10⁻⁶. The native reference was the whole batch until it cost ResNet-18 at 224, batch 32,
    /// about 35 s and 9 GB (slow_conv2d keeps its unfolded inputs for the backward pass).
    /// </summary>
    private bool OneDnnAgrees(long batch)
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(0x5eed, Device);
        var type = _plan.InputTypes[0] ?? ScalarType.Float32;
        var input = torch.randn([batch, .. InputShape], generator: generator, device: Device);
        long reference = _fixedBatch is null ? Math.Min(batch, ReferenceSamples) : batch;
        bool differentiable = torch.is_floating_point(torch.empty(0, type));
        Tensor[] native;
        Tensor? nativeGradient = null;
        var weights = new List<Tensor>();
        using (OneDnnConvolutionGuard.Enter(ConvolutionKernels.Native))
        {
            var x = input[..(int)reference].detach();
            x = differentiable ? x.requires_grad_(true) : x;
            var pass = Execute([x], ForwardCapture.BatchNormMoments, reference, ConvolutionKernels.Native);
            native = Prints(pass, reference);
            var projection = Projection(pass, reference);
            nativeGradient = projection is null ? null : torch.autograd.grad([projection], [x])[0];
        }

        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            // Each attempt's whole-batch activations are freed before the next one (only a bool leaves it).
            using var attemptScope = torch.NewDisposeScope();
            using var pass = OneDnnConvolutionGuard.Enter(ConvolutionKernels.OneDnn);
            var x = nativeGradient is null ? input : input.detach().requires_grad_(true);
            var outputs = Execute([x], ForwardCapture.BatchNormMoments, batch, ConvolutionKernels.OneDnn);
            var oneDnn = Prints(outputs, reference);
            if (native.Length != oneDnn.Length || !native.Zip(oneDnn).All(p => Close(p.First, p.Second)))
            {
                return false;
            }

            if (nativeGradient is not null && Projection(outputs, batch) is { } projection)
            {
                var gradient = torch.autograd.grad([projection], [x])[0][..(int)reference];
                if (!gradient.isfinite().all().item<bool>()
                    || (gradient - nativeGradient).to(ScalarType.Float64).norm().item<double>() > 2e-2 * nativeGradient.to(ScalarType.Float64).norm().item<double>())
                {
                    return false;
                }
            }
        }

        return true;

        // The same seeded weights for both passes: the first `samples` rows of a per-output weight drawn for the whole batch.
        // The native pass draws them (in the outer scope); the oneDNN attempts run the same graph, so they only read them.
        Tensor? Projection(GraphOutputs pass, long samples)
        {
            Tensor? sum = null;
            int index = 0;
            foreach (var output in pass.Outputs.Where(o => o.is_floating_point() && o.requires_grad))
            {
                if (weights.Count <= index)
                {
                    weights.Add(torch.randn([batch, .. output.shape.Skip(1)], generator: generator, device: Device));
                }

                var term = (output * weights[index++][..(int)samples]).sum();
                sum = sum is null ? term : sum.Plus(term);
            }

            return sum;
        }

        // Outputs and per-channel BatchNorm statistics of the first `samples` samples.
        static Tensor[] Prints(GraphOutputs pass, long samples) =>
        [
            .. pass.Outputs.Where(o => o.is_floating_point()).Select(o => Head(o.detach(), samples).to(ScalarType.Float64)),
            .. pass.BatchNormMoments.SelectMany(moments => new[]
            {
                Head(moments.Mean.detach(), samples).to(ScalarType.Float64).mean([0]),
                Head(moments.MeanSquare.detach(), samples).to(ScalarType.Float64).mean([0]),
            }),
        ];

        // A sample-first tensor's first samples; any other is compared whole (and a batch-sized one then fails to match).
        static Tensor Head(Tensor tensor, long samples) => tensor.dim() > 0 && tensor.shape[0] > samples ? tensor[..(int)samples] : tensor;

        static bool Close(Tensor reference, Tensor candidate)
        {
            if (!reference.shape.SequenceEqual(candidate.shape) || !candidate.isfinite().all().item<bool>() || !reference.isfinite().all().item<bool>())
            {
                return false;
            }

            var expected = reference.to(ScalarType.Float64);
            return (candidate.to(ScalarType.Float64) - expected).abs().max().item<double>() <= (1e-3 * expected.abs().max().item<double>()) + 1e-6;
        }
    }

    /// <summary>Runs the graph on named inputs (every graph input must be given); returns every output by name.</summary>
    /// <exception cref="DsgException">DSG0501 when an input is missing; DSG0502 when a node fails.</exception>
    public IReadOnlyDictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs) => Run(inputs, null);

    /// <summary>
    /// <see cref="Run(IReadOnlyDictionary{string, Tensor})"/>, with the value of each tensor named in
    /// <paramref name="transforms"/> replaced, as soon as it is computed, by what its function returns: every later node
    /// reads the replacement (and a graph output is the replacement). For learning on a sub-graph, where the functions
    /// quantize activations; gradients flow through them.
    /// </summary>
    /// <exception cref="DsgException">DSG0501 when an input is missing or a transformed name is not computed by the graph; DSG0502 when a node fails.</exception>
    internal IReadOnlyDictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyDictionary<string, Func<Tensor, Tensor>>? transforms)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(inputs);
        var ordered = new Tensor[_plan.InputNames.Length];
        for (int i = 0; i < ordered.Length; i++)
        {
            if (!inputs.TryGetValue(_plan.InputNames[i], out var tensor))
            {
                throw new DsgException(ErrorCodes.ExecutorInputMismatch,
                    $"Input '{_plan.InputNames[i]}' of '{_displayName}' was not given.",
                    $"Pass a tensor for each of: {string.Join(", ", _plan.InputNames)}.");
            }

            ordered[i] = tensor;
        }

        Func<Tensor, Tensor>?[]? bySlot = null;
        if (transforms is { Count: > 0 })
        {
            bySlot = new Func<Tensor, Tensor>?[_plan.SlotCount];
            foreach (var (name, transform) in transforms)
            {
                int slot = Array.IndexOf(_plan.SlotNames, name);
                if (slot < 0 || _plan.External[slot])
                {
                    throw new DsgException(ErrorCodes.ExecutorInputMismatch,
                        $"'{name}' is not a tensor that '{_displayName}' computes, so it cannot be transformed.",
                        "Name tensors that nodes of the graph produce.");
                }

                bySlot[slot] = transform;
            }
        }

        var outputs = OneDnnConvolutionGuard.Run(ConvolutionKernels.Process, () => Execute(ordered, ForwardCapture.None, 0, ConvolutionKernels.Process, bySlot)).Outputs;
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (int i = 0; i < outputs.Count; i++)
        {
            result[_plan.OutputNames[i]] = outputs[i];
        }

        return result;
    }

    /// <summary>Releases every weight and constant.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var tensor in _owned)
        {
            tensor.Dispose();
        }
    }

    /// <summary>
    /// Back-propagates <paramref name="loss"/> (computed from a forward pass's outputs) with the convolution kernels
    /// that pass ran with (<see cref="GraphOutputs.Kernels"/>): use it instead of <c>loss.backward()</c>, so the
    /// backward convolutions are the ones checked for the graph (<see cref="OneDnnConvolutionGuard"/>).
    /// </summary>
    public static void Backward(Tensor loss, ConvolutionKernels kernels = ConvolutionKernels.Process)
    {
        ArgumentNullException.ThrowIfNull(loss);
        OneDnnConvolutionGuard.Run(kernels, () =>
        {
            loss.backward();
            return true;
        });
    }

    private GraphOutputs Execute(Tensor[] provided, ForwardCapture capture, long batch, ConvolutionKernels kernels,
        Func<Tensor, Tensor>?[]? transforms = null)
    {
        using var scope = torch.NewDisposeScope();
        var plan = _plan;
        var slots = (Tensor?[])plan.Constants.Clone();
        for (int i = 0; i < provided.Length; i++)
        {
            slots[plan.InputSlots[i]] = Prepare(provided[i], plan.InputTypes[i]);
        }

        bool tap = capture.HasFlag(ForwardCapture.BatchNormInputs);
        var taps = tap ? new Tensor[BatchNormLayers.Count] : [];
        bool measure = capture.HasFlag(ForwardCapture.BatchNormMoments);
        var moments = measure ? new (Tensor Mean, Tensor MeanSquare)[BatchNormLayers.Count] : [];
        Tensor? features = null;
        var freeAfter = plan.FreeAfter(capture);
        var inputs = new Tensor?[plan.MaxInputs];
        var outputs = new Tensor?[plan.MaxOutputs];
        var steps = plan.Steps;
        for (int s = 0; s < steps.Length; s++)
        {
            var step = steps[s];
            int inputCount = step.InputSlots.Length;
            for (int i = 0; i < inputCount; i++)
            {
                int slot = step.InputSlots[i];
                inputs[i] = slot < 0 ? null : slots[slot];
            }

            if (tap && step.TapIndex >= 0)
            {
                taps[step.TapIndex] = Own(inputs[0]!, step.InputSlots[0]);
            }

            if (s == plan.FeatureStep && capture.HasFlag(ForwardCapture.Features))
            {
                features = inputs[0]!.reshape(batch, -1);
            }

            int outputCount = step.OutputSlots.Length;
            Array.Clear(outputs, 0, outputCount);
            try
            {
                if (measure && step.TapIndex >= 0 && BatchNormWithMoments.TryRun(inputs[0]!, BatchNormLayers[step.TapIndex]) is { } fused)
                {
                    outputs[0] = fused.Output;
                    moments[step.TapIndex] = (fused.Mean, fused.MeanSquare);
                }
                else
                {
                    if (measure && step.TapIndex >= 0)
                    {
                        moments[step.TapIndex] = ChannelMoments.Of(inputs[0]!);
                    }

                    step.Kernel.Run(inputs.AsSpan(0, inputCount), outputs.AsSpan(0, outputCount));
                }
            }
            catch (Exception e) when (e is not DsgException and not OutOfMemoryException)
            {
                throw new DsgException(ErrorCodes.NodeExecutionFailed,
                    $"{step.DisplayName} of '{_displayName}' failed: {e.Message}",
                    "The input does not fit the model or the model's shapes do not fit together; check it with `dotnet dsg inspect --verify`.",
                    e) { FilePath = _displayName };
            }

            for (int o = 0; o < outputCount; o++)
            {
                var value = outputs[o];
                int slot = step.OutputSlots[o];
                if (slot < 0)
                {
                    value?.Dispose();
                    continue;
                }

                if (value is null)
                {
                    throw new DsgException(ErrorCodes.NodeExecutionFailed,
                        $"{step.DisplayName} of '{_displayName}' produced no value for output {o}.",
                        "Check the model with ONNX Runtime.") { FilePath = _displayName };
                }

                for (int i = 0; i < inputCount; i++)
                {
                    if (ReferenceEquals(value, inputs[i]))
                    {
                        value = value.alias();
                        break;
                    }
                }

                if (transforms?[slot] is { } transform)
                {
                    var replaced = transform(value);
                    if (!ReferenceEquals(replaced, value))
                    {
                        value.Dispose();
                        value = replaced;
                    }
                }

                slots[slot] = value;
            }

            if (freeAfter[s] is { } dead)
            {
                foreach (var slot in dead)
                {
                    slots[slot]?.Dispose();
                    slots[slot] = null;
                }
            }
        }

        Array.Clear(inputs);
        var results = new Tensor[plan.OutputSlots.Length];
        for (int i = 0; i < results.Length; i++)
        {
            int slot = plan.OutputSlots[i];
            results[i] = Own(slots[slot]!, slot);
        }

        var keep = new List<IDisposable>(results.Length + taps.Length + 2 * moments.Length + 1);
        keep.AddRange(results);
        keep.AddRange(taps);
        keep.AddRange(moments.SelectMany(m => new[] { m.Mean, m.MeanSquare }));
        if (features is not null)
        {
            keep.Add(features);
        }

        scope.MoveToOuter(keep);
        return new GraphOutputs(results, taps, features, kernels) { BatchNormMoments = moments };
    }

    /// <summary>
    /// Whether a model that declares a static batch still computes a batch of another size correctly. Constant
    /// reshapes baked for the export batch break this; the probe runs batch + 1 zeros and checks every output whose
    /// first dimension the model declares as the batch follows it.
    /// </summary>
    private bool RunsWithOtherBatchSizes(OnnxModel model, long batch)
    {
        var declaredOutputs = model.Graph.Output.Select(o => o.Type?.TensorType?.Shape?.Dim.FirstOrDefault()).ToArray();
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        long probe = batch + 1;
        IReadOnlyList<Tensor> outputs;
        try
        {
            var type = _plan.InputTypes[0] ?? ScalarType.Float32;
            outputs = OneDnnConvolutionGuard.Run(ConvolutionKernels.Process,
                () => Execute([torch.zeros([probe, .. InputShape], type, Device)], ForwardCapture.None, probe, ConvolutionKernels.Process)).Outputs;
        }
        catch (DsgException e) when (e.Code == ErrorCodes.NodeExecutionFailed)
        {
            return false;
        }

        bool checkedAny = false;
        for (int i = 0; i < outputs.Count; i++)
        {
            if (declaredOutputs[i] is { ValueCase: TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue } d && d.DimValue == batch)
            {
                checkedAny = true;
                if (outputs[i].ndim == 0 || outputs[i].shape[0] != probe)
                {
                    return false;
                }
            }
        }

        return checkedAny;
    }

    /// <summary>The batch size the model's (first) input declares, or null when it is dynamic.</summary>
    internal static long? DeclaredBatch(OnnxModel model)
    {
        var initializers = model.Initializers;
        var input = model.Graph.Input.FirstOrDefault(i => !initializers.ContainsKey(i.Name));
        var first = input?.Type?.TensorType?.Shape?.Dim.FirstOrDefault();
        return first is { ValueCase: TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue, DimValue: > 0 } ? first.DimValue : null;
    }

    /// <summary>A tensor the caller may own: slots holding constants or caller inputs are handed out as aliases.</summary>
    private Tensor Own(Tensor tensor, int slot) => _plan.External[slot] ? tensor.alias() : tensor;

    private Tensor Prepare(Tensor input, ScalarType? declared)
    {
        var tensor = input;
        if (tensor.device_type != Device.type || (Device.type != DeviceType.CPU && tensor.device_index != Math.Max(Device.index, 0)))
        {
            tensor = tensor.to(Device);
        }

        if (declared is ScalarType type && tensor.dtype != type)
        {
            tensor = tensor.to_type(type);
        }

        return tensor;
    }

    private static long[] ResolveInputShape(OnnxModel model, IReadOnlyList<long>? declared)
    {
        var initializers = model.Initializers;
        var input = model.Graph.Input.FirstOrDefault(i => !initializers.ContainsKey(i.Name));
        if (input is null)
        {
            return declared?.ToArray() ?? [];
        }

        var dims = input.Type?.TensorType?.Shape?.Dim
            .Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && d.DimValue >= 0 ? d.DimValue : (long?)null)
            .Skip(1).ToArray();
        if (declared is not null)
        {
            if (declared.Any(d => d <= 0) || (dims is not null && dims.Length != declared.Count))
            {
                throw new DsgException(ErrorCodes.InputShapeConflict,
                    $"The declared input shape {string.Join(",", declared)} does not fit input '{input.Name}' of '{model.DisplayName}'" +
                    (dims is null ? "." : $", which has {dims.Length} dimension(s) after the batch."),
                    "Declare every dimension after the batch as a positive number, for example --input-shape 3,224,224.");
            }

            for (int i = 0; i < declared.Count; i++)
            {
                if (dims is not null && dims[i] is long fixedDim && fixedDim != declared[i])
                {
                    throw new DsgException(ErrorCodes.InputShapeConflict,
                        $"The declared input shape {string.Join(",", declared)} contradicts input '{input.Name}' of '{model.DisplayName}', whose dimension {i + 1} is fixed at {fixedDim}.",
                        "Leave the shape undeclared for this model, or declare the shape it was exported with.");
                }
            }

            return declared.ToArray();
        }

        if (dims is null || dims.Any(d => d is null))
        {
            var shown = input.Type?.TensorType?.Shape?.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue
                ? d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture)
                : string.IsNullOrEmpty(d.DimParam) ? "?" : d.DimParam);
            throw new DsgException(ErrorCodes.DynamicInputShape,
                $"Input '{input.Name}' of '{model.DisplayName}' has shape [{(shown is null ? "unknown" : string.Join(", ", shown))}]: a dimension other than the batch is dynamic, so the executor cannot tell what size to run.",
                "Declare the input shape with --input-shape C,H,W (for example --input-shape 3,224,224), or export with only the batch axis dynamic (dynamic_axes={\"input\": {0: \"batch\"}}).")
            { FilePath = model.DisplayName };
        }

        return dims.Select(d => d!.Value).ToArray();
    }

    private static Device ResolveDevice(string name)
    {
        var normalized = (name ?? "cpu").Trim().ToLowerInvariant();
        if (normalized == "auto")
        {
            return torch.cuda_is_available() ? torch.CUDA : torch.CPU;
        }

        if (normalized == "cpu")
        {
            return torch.CPU;
        }

        if (normalized == "cuda" || normalized.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!torch.cuda_is_available())
            {
                throw new DsgException(ErrorCodes.CudaUnavailable,
                    $"Device '{name}' was requested, but TorchSharp finds no CUDA runtime (this build ships the CPU libtorch).",
                    "Use --device cpu (or auto), or install a CUDA build of libtorch for TorchSharp.");
            }

            return torch.device(normalized);
        }

        throw new DsgException(ErrorCodes.BadOption,
            $"Device '{name}' is not one of cpu, cuda, cuda:N or auto.", "Pass --device cpu, cuda or auto.");
    }
}
