using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Proto;
using Dsg.Tests.Shared;
using Google.Protobuf;

namespace Dsg.Core.Tests.Onnx;

public sealed class OnnxModelTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dsg-onnx-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Save_then_load_reproduces_every_byte_of_a_real_model()
    {
        var source = Path.Combine(RepoPaths.OnnxNodeTests, "test_conv_with_strides_padding", "model.onnx");
        var original = File.ReadAllBytes(source);
        var model = OnnxModel.Load(source);
        var copy = Path.Combine(_dir, "copy.onnx");

        model.Save(copy);

        Assert.Equal(original, File.ReadAllBytes(copy));
        Assert.Equal(model.Proto, OnnxModel.Load(copy).Proto);
    }

    [Fact]
    public void Unknown_fields_at_every_level_survive_a_round_trip()
    {
        var proto = SmallModel();
        var unknownTop = new byte[] { 0xF8, 0x06, 0x2A };          // field 111, varint 42
        var unknownNode = new byte[] { 0xFA, 0x06, 0x03, 0x61, 0x62, 0x63 }; // field 111, bytes "abc"
        var nodeBytes = proto.Graph.Node[0].ToByteArray().Concat(unknownNode).ToArray();
        proto.Graph.Node[0] = NodeProto.Parser.ParseFrom(nodeBytes);
        var bytes = proto.ToByteArray().Concat(unknownTop).ToArray();
        var path = Path.Combine(_dir, "unknown.onnx");
        File.WriteAllBytes(path, bytes);

        var saved = Path.Combine(_dir, "saved.onnx");
        OnnxModel.Load(path).Save(saved);
        var savedBytes = File.ReadAllBytes(saved);

        Assert.True(Contains(savedBytes, unknownTop), "top-level unknown field lost");
        Assert.True(Contains(savedBytes, unknownNode), "node-level unknown field lost");
        Assert.Equal(bytes.Length, savedBytes.Length);
    }

    [Fact]
    public void External_data_is_read_from_the_model_folder_and_inlined_when_saved_elsewhere()
    {
        var values = new[] { 1.5f, -2f, 3.25f, 4f };
        var data = new byte[8].Concat(values.SelectMany(BitConverter.GetBytes)).ToArray();
        File.WriteAllBytes(Path.Combine(_dir, "weights.bin"), data);
        var path = WriteExternalModel("weights.bin", offset: 8, length: 16);

        var model = OnnxModel.Load(path);
        Assert.Equal(values, OnnxTensor.ToFloats(model.Initializers["w"], model));

        var elsewhere = Path.Combine(_dir, "other", "inlined.onnx");
        model.Save(elsewhere);
        var reloaded = OnnxModel.Load(elsewhere);
        Assert.False(reloaded.HasExternalData());
        Assert.Equal(values, OnnxTensor.ToFloats(reloaded.Initializers["w"], reloaded));
    }

    [Theory]
    [InlineData("../outside.bin")]
    [InlineData("sub/../../outside.bin")]
    [InlineData("/etc/passwd")]
    public void External_data_outside_the_model_folder_is_refused(string location)
    {
        var modelDir = Path.Combine(_dir, "model");
        Directory.CreateDirectory(modelDir);
        File.WriteAllBytes(Path.Combine(_dir, "outside.bin"), new byte[16]);
        var path = WriteExternalModel(location, 0, 16, modelDir);

        var e = Assert.Throws<DsgException>(() => OnnxModel.Load(path));

        Assert.Equal(ErrorCodes.ExternalDataOutsideModel, e.Code);
        Assert.Contains(location, e.Message);
    }

    [Fact]
    public void External_data_through_a_symbolic_link_that_leaves_the_folder_is_refused()
    {
        var modelDir = Path.Combine(_dir, "model");
        Directory.CreateDirectory(modelDir);
        File.WriteAllBytes(Path.Combine(_dir, "secret.bin"), new byte[16]);
        File.CreateSymbolicLink(Path.Combine(modelDir, "weights.bin"), Path.Combine(_dir, "secret.bin"));
        var path = WriteExternalModel("weights.bin", 0, 16, modelDir);

        var e = Assert.Throws<DsgException>(() => OnnxModel.Load(path));

        Assert.Equal(ErrorCodes.ExternalDataOutsideModel, e.Code);
    }

    [Fact]
    public void Missing_or_short_external_data_is_reported()
    {
        var path = WriteExternalModel("absent.bin", 0, 16);
        var model = OnnxModel.Load(path);

        var e = Assert.Throws<DsgException>(() => OnnxTensor.ToFloats(model.Initializers["w"], model));
        Assert.Equal(ErrorCodes.ExternalDataMissing, e.Code);

        File.WriteAllBytes(Path.Combine(_dir, "absent.bin"), new byte[4]);
        e = Assert.Throws<DsgException>(() => OnnxTensor.ToFloats(model.Initializers["w"], model));
        Assert.Equal(ErrorCodes.ExternalDataMissing, e.Code);
    }

    [Fact]
    public void A_missing_file_is_DSG0101()
    {
        var e = Assert.Throws<DsgException>(() => OnnxModel.Load(Path.Combine(_dir, "nope.onnx")));
        Assert.Equal(ErrorCodes.ModelNotFound, e.Code);
    }

    [Fact]
    public void A_text_file_is_DSG0102()
    {
        var path = Path.Combine(_dir, "readme.onnx");
        File.WriteAllText(path, "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12345\n");

        var e = Assert.Throws<DsgException>(() => OnnxModel.Load(path));

        Assert.Equal(ErrorCodes.NotOnnx, e.Code);
    }

    [Fact]
    public void A_truncated_model_is_DSG0103()
    {
        var source = Path.Combine(RepoPaths.OnnxNodeTests, "test_conv_with_strides_padding", "model.onnx");
        var bytes = File.ReadAllBytes(source);
        var path = Path.Combine(_dir, "half.onnx");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        var e = Assert.Throws<DsgException>(() => OnnxModel.Load(path));

        Assert.Equal(ErrorCodes.TruncatedModel, e.Code);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Typed_and_raw_tensor_encodings_read_the_same_values()
    {
        var typed = new TensorProto { Name = "t", DataType = (int)TensorProto.Types.DataType.Float };
        typed.Dims.Add(3);
        typed.FloatData.Add(new[] { 1f, 2f, 3f });
        var raw = OnnxTensor.FromFloats("t", new[] { 1f, 2f, 3f }, 3);
        var ints = OnnxTensor.FromInt64s("i", new long[] { -1, 5 }, 2);

        Assert.Equal(OnnxTensor.ToFloats(typed), OnnxTensor.ToFloats(raw));
        Assert.Equal(new long[] { -1, 5 }, OnnxTensor.ToInt64s(ints));
        Assert.Equal(new[] { -1f, 5f }, OnnxTensor.ToFloats(ints));
    }

    private string WriteExternalModel(string location, long offset, long length, string? dir = null)
    {
        var proto = SmallModel();
        var w = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float, DataLocation = TensorProto.Types.DataLocation.External };
        w.Dims.Add(4);
        w.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        w.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString() });
        w.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = length.ToString() });
        proto.Graph.Initializer.Add(w);
        var path = Path.Combine(dir ?? _dir, "model.onnx");
        File.WriteAllBytes(path, proto.ToByteArray());
        return path;
    }

    private static ModelProto SmallModel()
    {
        var graph = new GraphProto { Name = "g" };
        graph.Node.Add(new NodeProto { OpType = "Relu", Name = "relu", Input = { "x" }, Output = { "y" } });
        var proto = new ModelProto { IrVersion = 8, Graph = graph, ProducerName = "test" };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return proto;
    }

    private static bool Contains(byte[] haystack, byte[] needle) =>
        Enumerable.Range(0, haystack.Length - needle.Length + 1).Any(i => haystack.AsSpan(i, needle.Length).SequenceEqual(needle));
}
