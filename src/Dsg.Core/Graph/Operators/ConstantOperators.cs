using Dsg.Core.Graph.Execution;
using Dsg.Core.Onnx.Proto;
using TorchSharp;
using static TorchSharp.torch;

namespace Dsg.Core.Graph.Operators;

/// <summary>Constant (value, value_float(s), value_int(s)), ConstantOfShape, Range and Cast.</summary>
internal static class ConstantOperators
{
    /// <summary>The entries.</summary>
    public static IEnumerable<IOperator> All()
    {
        yield return new Operator("Constant", BuildConstant);
        yield return new Operator("ConstantOfShape", node =>
        {
            var value = node.Attribute("value")?.T is { } proto ? TensorProtoConverter.ToTensor(proto) : null;
            var dtype = value?.dtype ?? ScalarType.Float32;
            double fill = value is null ? 0 : TensorValues.ToDoubles(value)[0];
            value?.Dispose();
            var device = node.Device;
            return new UnaryKernel(shape =>
            {
                using var value = fill.ToScalar();
                return torch.full(TensorValues.ToInt64s(shape), value, dtype, device);
            });
        });
        yield return new Operator("Range", node =>
        {
            var device = node.Device;
            return new ArgumentKernel(inputs =>
            {
                var dtype = inputs[0]!.dtype;
                var start = TensorValues.ToDoubles(inputs[0]!)[0];
                var limit = TensorValues.ToDoubles(inputs[1]!)[0];
                var delta = TensorValues.ToDoubles(inputs[2]!)[0];
                long count = Math.Max((long)Math.Ceiling((limit - start) / delta), 0);
                using var zero = 0L.ToScalar();
                using var end = count.ToScalar();
                using var steps = torch.arange(zero, end, TensorArithmetic.One, ScalarType.Float64, device);
                using var scaled = steps.Times(delta);
                using var values = scaled.Plus(start);
                return values.to_type(dtype);
            });
        });
        yield return new Operator("Cast", node =>
        {
            var to = (TensorProto.Types.DataType)node.Int("to", 0);
            var target = TensorProtoConverter.ToScalarType(to) ?? throw node.Unsupported($"casting to {to} is not supported.");
            return new UnaryKernel(x => x.to_type(target));
        });
    }

    private static OperatorKernel BuildConstant(NodeContext node)
    {
        Tensor value;
        if (node.Attribute("value")?.T is { } proto)
        {
            value = TensorProtoConverter.ToTensor(proto, null, node.Device);
        }
        else if (node.HasAttribute("value_float"))
        {
            value = torch.tensor(node.Float("value_float", 0), ScalarType.Float32, node.Device);
        }
        else if (node.Floats("value_floats") is { } floats)
        {
            value = torch.tensor(floats, ScalarType.Float32, node.Device);
        }
        else if (node.HasAttribute("value_int"))
        {
            value = torch.tensor(node.Int("value_int", 0), ScalarType.Int64, node.Device);
        }
        else if (node.Ints("value_ints") is { } ints)
        {
            value = TensorValues.Int64Tensor(ints, node.Device);
        }
        else
        {
            throw node.Unsupported("only value, value_float(s) and value_int(s) are supported (not sparse or string constants).");
        }

        var owned = node.Own(value.DetachFromDisposeScope());
        return new ArgumentKernel(_ => owned.alias());
    }
}
