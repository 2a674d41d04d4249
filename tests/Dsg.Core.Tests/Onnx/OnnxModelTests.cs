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
    public void Missing_or_short_external_data_is_refused_when_the_model_loads()
    {
        var path = WriteExternalModel("absent.bin", 0, 16);
        var e = Assert.Throws<DsgException>(() => OnnxModel.Load(path));
        Assert.Equal(ErrorCodes.ExternalDataMissing, e.Code);

        File.WriteAllBytes(Path.Combine(_dir, "absent.bin"), new byte[4]);
        e = Assert.Throws<DsgException>(() => OnnxModel.Load(path));
        Assert.Equal(ErrorCodes.ExternalDataMissing, e.Code);

        // A file that shrinks after loading is still caught when the values are read.
        File.WriteAllBytes(Path.Combine(_dir, "absent.bin"), new byte[16]);
        var model = OnnxModel.Load(path);
        File.WriteAllBytes(Path.Combine(_dir, "absent.bin"), new byte[4]);
        e = Assert.Throws<DsgException>(() => OnnxTensor.ToFloats(model.Initializers["w"], model));
        Assert.Equal(ErrorCodes.ExternalDataMissing, e.Code);
    }

    [Fact]
    public void A_folder_link_inside_the_model_folder_that_leaves_it_is_refused()
    {
        // Issue 14, item 3: `etc -> /etc` with location `etc/passwd` used to read /etc/passwd.
        var modelDir = Directory.CreateDirectory(Path.Combine(_dir, "model")).FullName;
        var outside = Directory.CreateDirectory(Path.Combine(_dir, "outside")).FullName;
        File.WriteAllBytes(Path.Combine(outside, "secret.bin"), new byte[16]);
        Directory.CreateSymbolicLink(Path.Combine(modelDir, "etc"), outside);
        var path = WriteExternalModel("etc/secret.bin", 0, 16, modelDir);

        var e = Assert.Throws<DsgException>(() => OnnxModel.Load(path));

        Assert.Equal(ErrorCodes.ExternalDataOutsideModel, e.Code);
        Assert.Contains(Path.Combine(outside, "secret.bin"), e.Message);
    }

    [Fact]
    public void A_folder_link_that_stays_inside_the_model_folder_is_read()
    {
        var modelDir = Directory.CreateDirectory(Path.Combine(_dir, "model")).FullName;
        var data = Directory.CreateDirectory(Path.Combine(modelDir, "data")).FullName;
        File.WriteAllBytes(Path.Combine(data, "w.bin"), new[] { 1f, 2f, 3f, 4f }.SelectMany(BitConverter.GetBytes).ToArray());
        Directory.CreateSymbolicLink(Path.Combine(modelDir, "weights"), "data");
        var path = WriteExternalModel("weights/w.bin", 0, 16, modelDir);

        var model = OnnxModel.Load(path);

        Assert.Equal(new[] { 1f, 2f, 3f, 4f }, OnnxTensor.ToFloats(model.Initializers["w"], model));
    }

    [Fact]
    public async Task A_FIFO_as_external_data_is_refused_without_opening_it()
    {
        // Issue 14, item 4: opening a FIFO for reading blocks until a writer comes, which is forever.
        RealPathTests.Run("mkfifo", Path.Combine(_dir, "pipe.bin"));
        var path = WriteExternalModel("pipe.bin", 0, 16);

        var e = await Task.Run(() => Assert.Throws<DsgException>(() => OnnxModel.Load(path))).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(ErrorCodes.ExternalDataNotAFile, e.Code);
        Assert.Contains("FIFO", e.Message);
    }

    [Fact]
    public async Task A_FIFO_or_a_folder_as_the_model_is_refused_without_opening_it()
    {
        var fifo = Path.Combine(_dir, "pipe.onnx");
        RealPathTests.Run("mkfifo", fifo);

        var e = await Task.Run(() => Assert.Throws<DsgException>(() => OnnxModel.Load(fifo))).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(ErrorCodes.ModelNotFound, e.Code);
        Assert.Equal(ErrorCodes.ModelNotFound, Assert.Throws<DsgException>(() => OnnxModel.Load(_dir)).Code);
    }

    [Theory]
    [InlineData("9223372036854775807", "16", ErrorCodes.ExternalDataMissing)]
    [InlineData("8", "9223372036854775807", ErrorCodes.ExternalDataMissing)]
    [InlineData("-8", "16", ErrorCodes.MalformedModel)]
    [InlineData("0", "lots", ErrorCodes.MalformedModel)]
    [InlineData("0", "8", ErrorCodes.MalformedModel)]
    public void Offsets_and_lengths_are_checked_against_the_real_size_without_overflow(string offset, string length, string code)
    {
        File.WriteAllBytes(Path.Combine(_dir, "w.bin"), new byte[32]);
        var path = WriteExternalModel("w.bin", 0, 16);
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        var w = proto.Graph.Initializer.Single();
        w.ExternalData.Single(e => e.Key == "offset").Value = offset;
        w.ExternalData.Single(e => e.Key == "length").Value = length;
        File.WriteAllBytes(path, proto.ToByteArray());

        var e = Assert.Throws<DsgException>(() => OnnxModel.Load(path));

        Assert.Equal(code, e.Code);
        Assert.Contains("'w'", e.Message);
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
        graph.Input.Add(new ValueInfoProto { Name = "x" });
        graph.Output.Add(new ValueInfoProto { Name = "y" });
        var proto = new ModelProto { IrVersion = 8, Graph = graph, ProducerName = "test" };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return proto;
    }

    private static bool Contains(byte[] haystack, byte[] needle) =>
        Enumerable.Range(0, haystack.Length - needle.Length + 1).Any(i => haystack.AsSpan(i, needle.Length).SequenceEqual(needle));
}
