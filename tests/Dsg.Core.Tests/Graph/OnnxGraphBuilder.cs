using Dsg.Core.Onnx;
using Dsg.Core.Onnx.Proto;
using Google.Protobuf;

namespace Dsg.Core.Tests.Graph;

/// <summary>Builds small ONNX models in memory for executor tests.</summary>
internal sealed class OnnxGraphBuilder
{
    private readonly ModelProto _model;
    private readonly TensorProto.Types.DataType _floatType;
    private int _counter;

    public OnnxGraphBuilder(long opset = 13, TensorProto.Types.DataType floatType = TensorProto.Types.DataType.Float)
    {
        _floatType = floatType;
        _model = new ModelProto { IrVersion = 8, ProducerName = "dsg-tests", Graph = new GraphProto { Name = "test" } };
        _model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
    }

    public GraphProto Graph => _model.Graph;

    /// <summary>A graph input; a null dimension is symbolic (named after its position).</summary>
    public OnnxGraphBuilder Input(string name, params long?[] dims) => Input(name, _floatType, dims);

    public OnnxGraphBuilder Input(string name, TensorProto.Types.DataType type, params long?[] dims)
    {
        Graph.Input.Add(Value(name, type, dims));
        return this;
    }

    public OnnxGraphBuilder Output(string name, params long?[] dims)
    {
        Graph.Output.Add(Value(name, _floatType, dims));
        return this;
    }

    /// <summary>A float (or the builder's float type) initializer.</summary>
    public string Weight(string name, double[] values, params long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)_floatType };
        tensor.Dims.AddRange(dims);
        if (_floatType == TensorProto.Types.DataType.Double)
        {
            tensor.DoubleData.AddRange(values);
        }
        else
        {
            tensor.FloatData.AddRange(values.Select(v => (float)v));
        }

        Graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>An initializer of deterministic pseudo-random values in [-scale, scale].</summary>
    public string RandomWeight(string name, Random random, double scale, params long[] dims) =>
        Weight(name, Enumerable.Range(0, (int)dims.Aggregate(1L, (a, d) => a * d)).Select(_ => (random.NextDouble() * 2 - 1) * scale).ToArray(), dims);

    public string Int64s(string name, params long[] values)
    {
        Graph.Initializer.Add(OnnxTensor.FromInt64s(name, values, values.Length));
        return name;
    }

    public string Int64Scalar(string name, long value)
    {
        Graph.Initializer.Add(OnnxTensor.FromInt64s(name, [value]));
        return name;
    }

    /// <summary>Adds a node; returns its first output's name.</summary>
    public string Node(string opType, string[] inputs, string[]? outputs = null, params AttributeProto[] attributes)
    {
        outputs ??= [$"{opType.ToLowerInvariant()}_{_counter++}"];
        var node = new NodeProto { OpType = opType, Name = $"{opType}_{_counter++}" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        return outputs[0];
    }

    public OnnxModel Build() => OnnxModel.FromProto(_model.Clone(), null, "test.onnx");

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto String(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static AttributeProto Tensor(string name, TensorProto value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Tensor, T = value };

    private static ValueInfoProto Value(string name, TensorProto.Types.DataType type, long?[] dims)
    {
        var shape = new TensorShapeProto();
        for (int i = 0; i < dims.Length; i++)
        {
            shape.Dim.Add(dims[i] is long d
                ? new TensorShapeProto.Types.Dimension { DimValue = d }
                : new TensorShapeProto.Types.Dimension { DimParam = i == 0 ? "batch" : $"d{i}" });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }
}
