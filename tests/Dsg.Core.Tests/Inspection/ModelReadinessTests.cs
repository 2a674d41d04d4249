using Dsg.Core.Inspection;
using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Import;
using Dsg.Core.Onnx.Proto;
using Dsg.Core.Pipeline;
using Dsg.Core.Quantization;
using Dsg.Tests.Shared;
using Google.Protobuf;

namespace Dsg.Core.Tests.Inspection;

/// <summary>
/// Issue 14, item 8: inspect runs the readiness pass quantize runs before any work, so a model it calls ready is one
/// quantize accepts. Each case here was called ready by inspect and then refused (or crashed) by quantize.
/// </summary>
public sealed class ModelReadinessTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dsg-readiness-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Every_shipped_model_with_BatchNorm_is_ready()
    {
        Assert.True(ModelInspector.Inspect(OnnxModel.Load(RepoPaths.Model("tiny_cnn.onnx"))).DsgReady);
        Assert.True(ModelInspector.Inspect(OnnxModel.Load(RepoPaths.Model("wild/fixed_batch1.onnx"))).DsgReady);
    }

    [Fact]
    public void A_zero_spatial_dimension_is_DSG0203_as_quantize_says()
    {
        var proto = Tiny();
        InputDims(proto)[2].DimValue = 0;

        Assert.Equal(ErrorCodes.DynamicInputShape, FirstProblem(proto));
    }

    [Fact]
    public void An_input_that_is_not_float32_is_DSG0204()
    {
        var proto = Tiny();
        proto.Graph.Input[0].Type.TensorType.ElemType = (int)TensorProto.Types.DataType.Int64;

        Assert.Equal(ErrorCodes.UnsupportedInput, FirstProblem(proto));
    }

    [Fact]
    public void A_model_ONNX_Runtime_refuses_is_DSG0709_for_inspect_and_before_any_work_in_quantize()
    {
        // The classifier's weight flattened to one dimension: the data still fits its dims, but Gemm needs rank 2.
        var proto = Tiny();
        var gemm = proto.Graph.Node.First(n => n.OpType == "Gemm");
        var weight = proto.Graph.Initializer.First(t => t.Name == gemm.Input[1]);
        long count = weight.Dims.Aggregate(1L, (a, d) => a * d);
        weight.Dims.Clear();
        weight.Dims.Add(count);
        Assert.Equal(ErrorCodes.OnnxRuntimeFailed, FirstProblem(proto));

        var path = Path.Combine(_dir, "flat.onnx");
        File.WriteAllBytes(path, proto.ToByteArray());
        var source = new SpySource();
        var e = Assert.Throws<DsgException>(() => QuantizePipeline.Run(new QuantizeRequest
        {
            ModelPath = path,
            OutputPath = Path.Combine(_dir, "flat.q.onnx"),
            Source = source,
            Options = QuantizationOptions.FromPrecision("W8A8"),
            Samples = 2,
        }));
        Assert.Equal(ErrorCodes.OnnxRuntimeFailed, e.Code);
        Assert.Equal(0, source.Calls);
    }

    [Fact]
    public void A_model_that_computes_NaN_is_DSG0705_before_any_work()
    {
        // NaN weights, as a corrupt file or a swapped BatchNorm variance gives: quantize used to fail only in calibration.
        var proto = Tiny();
        var weight = proto.Graph.Initializer.First(t => t.RawData.Length >= 4 && t.Dims.Count == 4);
        var bytes = weight.RawData.ToByteArray();
        BitConverter.TryWriteBytes(bytes.AsSpan(0), float.NaN);
        weight.RawData = ByteString.CopyFrom(bytes);

        Assert.Equal(ErrorCodes.CalibrationNotFinite, FirstProblem(proto));
    }

    [Fact]
    public void A_declared_input_shape_clears_the_dynamic_shape_problem_and_the_model_then_runs()
    {
        var model = OnnxModel.Load(RepoPaths.Model("bad/dynamic_spatial.onnx"));
        Assert.Contains(ModelInspector.Inspect(model).Problems, p => p.Code == ErrorCodes.DynamicInputShape);

        var report = ModelInspector.Inspect(model, new ReadinessOptions { InputShape = [1, 28, 28] });

        Assert.True(report.DsgReady, string.Join("; ", report.Problems.Select(p => p.Message)));
    }

    [Fact]
    public void A_gaussian_or_file_run_is_not_stopped_by_problems_of_the_generator()
    {
        var file = OnnxModel.Load(RepoPaths.Model("resnet_fmnist_folded.onnx"));
        var imported = ModelImporter.Import(file);

        Assert.Equal(ErrorCodes.NoBatchNorm, Assert.Throws<DsgException>(() =>
            ModelInspector.EnsureReady(file, imported, null, runsExecutor: true, needsBatchNorm: true)).Code);
        ModelInspector.EnsureReady(file, imported, null, runsExecutor: true, needsBatchNorm: false);
    }

    [Fact]
    public void A_model_with_external_data_is_ready_and_quantizes()
    {
        var proto = Tiny();
        var weight = proto.Graph.Initializer.OrderByDescending(t => t.RawData.Length).First();
        File.WriteAllBytes(Path.Combine(_dir, "weights.bin"), weight.RawData.ToByteArray());
        weight.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "weights.bin" });
        weight.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = weight.RawData.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        weight.ClearRawData();
        weight.DataLocation = TensorProto.Types.DataLocation.External;
        var path = Path.Combine(_dir, "external.onnx");
        File.WriteAllBytes(path, proto.ToByteArray());

        var report = ModelInspector.Inspect(OnnxModel.Load(path));
        Assert.True(report.DsgReady, string.Join("; ", report.Problems.Select(p => p.Message)));
        Assert.Contains("1 external-data tensor(s) read into the model", report.Import);

        var outcome = QuantizePipeline.Run(new QuantizeRequest
        {
            ModelPath = path,
            OutputPath = Path.Combine(_dir, "out", "external.q.onnx"),
            Source = new GaussianCalibrationSource(),
            Options = QuantizationOptions.FromPrecision("W8A8"),
            Samples = 4,
            HeldOutSamples = 2,
        });
        Assert.True(File.Exists(outcome.OutputPath));
    }

    private static ModelProto Tiny() => ModelProto.Parser.ParseFrom(File.ReadAllBytes(RepoPaths.Model("tiny_cnn.onnx")));

    private static IList<TensorShapeProto.Types.Dimension> InputDims(ModelProto proto) => proto.Graph.Input[0].Type.TensorType.Shape.Dim;

    private static string FirstProblem(ModelProto proto)
    {
        var report = ModelInspector.Inspect(OnnxModel.FromBytes(proto.ToByteArray(), null, "mutated.onnx"));
        Assert.False(report.DsgReady);
        return report.Problems[0].Code;
    }

    /// <summary>A source that counts the times it was asked for samples.</summary>
    private sealed class SpySource : ICalibrationSource
    {
        public int Calls { get; private set; }

        public string Name => "spy";

        public bool Optimises => false;

        public bool RunsExecutor => false;

        public bool NeedsBatchNorm => false;

        public CalibrationSamples Produce(OnnxModel model, long[] sampleShape, Dsg.Core.Graph.DetectedOutput output, int samples, int heldOut, int iterations, int seed,
            IProgress<PipelineEvent>? progress, CancellationToken ct)
        {
            Calls++;
            throw new InvalidOperationException("The pipeline asked for samples from a model it should have refused.");
        }
    }
}
