using Dsg.Core.Onnx.Proto;
using Dsg.Tests.Shared;
using Google.Protobuf;

namespace Dsg.Tool.Tests.Fuzz;

/// <summary>
/// A seeded generator of broken ONNX models made from the test assets: each case is one asset with one or more
/// mutations, written to a folder of its own (with any external-data files, links or FIFOs it needs). The same seed
/// and index always give the same bytes, so a failing case can be made again from its number alone.
/// </summary>
/// <remarks>
/// The mutations are those of issue 14: byte flips, truncation and garbage; field mutations (dimensions negative,
/// zero or huge; element types wrong; outputs, inputs, initializers or nodes removed; a node input renamed to
/// nothing or to a later node's output, which makes a cycle; attributes out of range; opsets and IR versions wrong);
/// external data that escapes the folder, is missing, short, a FIFO or a folder; and declared sizes past the limits.
/// </remarks>
internal sealed class ModelMutator
{
    /// <summary>The assets mutated, small ones first (most cases use them, so the suite stays quick).</summary>
    public static readonly string[] Assets =
    [
        "tiny_cnn.onnx", "resnet_fmnist.onnx", "tiny_cnn.onnx", "mobilenetv2_fmnist.onnx", "wild/softmax_head.onnx",
        "tiny_cnn.onnx", "wild/constant_weights.onnx", "wild/opset9.onnx", "wild/fixed_batch1.onnx", "wild/two_outputs.onnx",
        "resnet_fmnist_folded.onnx", "bad/dynamic_spatial.onnx",
    ];

    private static readonly Dictionary<string, byte[]> s_assetBytes = new(StringComparer.Ordinal);

    private readonly int _seed;

    public ModelMutator(int seed) => _seed = seed;

    /// <summary>Every mutation, by name. Case <c>i</c> applies mutation <c>i mod count</c> first, so a run of at least this many cases applies each.</summary>
    public static IReadOnlyList<Mutation> Mutations { get; } =
    [
        // Bytes.
        Bytes("truncate", (b, r) => b[..r.Next(0, b.Length)]),
        Bytes("truncate-tail", (b, r) => b[..Math.Max(0, b.Length - r.Next(1, 64))]),
        Bytes("flip-bytes", (b, r) =>
        {
            var copy = (byte[])b.Clone();
            for (int i = r.Next(1, 9); i > 0; i--)
            {
                copy[r.Next(copy.Length)] ^= (byte)r.Next(1, 256);
            }

            return copy;
        }),
        Bytes("flip-header-bytes", (b, r) =>
        {
            var copy = (byte[])b.Clone();
            for (int i = r.Next(1, 4); i > 0; i--)
            {
                copy[r.Next(Math.Min(copy.Length, 256))] ^= (byte)r.Next(1, 256);
            }

            return copy;
        }),
        Bytes("zero-range", (b, r) =>
        {
            var copy = (byte[])b.Clone();
            int start = r.Next(copy.Length);
            Array.Clear(copy, start, Math.Min(copy.Length - start, r.Next(1, 512)));
            return copy;
        }),
        Bytes("append-garbage", (b, r) =>
        {
            var garbage = new byte[r.Next(1, 64)];
            r.NextBytes(garbage);
            return [.. b, .. garbage];
        }),
        Bytes("empty-file", (_, _) => []),

        // Structure.
        Proto("no-outputs", (m, _, _) => m.Graph.Output.Clear()),
        Proto("output-undefined", (m, r, _) => Pick(m.Graph.Output, r).Name = "nowhere"),
        Proto("no-inputs", (m, _, _) => m.Graph.Input.Clear()),
        Proto("no-nodes", (m, _, _) => m.Graph.Node.Clear()),
        Proto("remove-node", (m, r, _) => m.Graph.Node.RemoveAt(r.Next(m.Graph.Node.Count))),
        Proto("remove-initializer", (m, r, _) =>
        {
            if (m.Graph.Initializer.Count > 0)
            {
                m.Graph.Initializer.RemoveAt(r.Next(m.Graph.Initializer.Count));
            }
        }),
        Proto("input-renamed-to-nothing", (m, r, _) => RenameInput(m, r, _ => "undefined_tensor")),
        Proto("cycle", (m, r, _) =>
        {
            // A node reads the output of a node after it: the two (and any between) form a cycle.
            int count = m.Graph.Node.Count;
            if (count < 2)
            {
                return;
            }

            int early = r.Next(count - 1);
            int late = r.Next(early + 1, count);
            var node = m.Graph.Node[early];
            if (node.Input.Count > 0 && m.Graph.Node[late].Output.Count > 0)
            {
                node.Input[0] = m.Graph.Node[late].Output[0];
            }
        }),
        Proto("self-loop", (m, r, _) =>
        {
            var node = Pick(m.Graph.Node, r);
            if (node.Input.Count > 0 && node.Output.Count > 0)
            {
                node.Input[0] = node.Output[0];
            }
        }),
        Proto("duplicate-output-name", (m, r, _) =>
        {
            var a = Pick(m.Graph.Node, r);
            var b = Pick(m.Graph.Node, r);
            if (a.Output.Count > 0 && b.Output.Count > 0)
            {
                b.Output[0] = a.Output[0];
            }
        }),
        Proto("empty-names", (m, r, _) =>
        {
            var node = Pick(m.Graph.Node, r);
            for (int i = 0; i < node.Input.Count; i++)
            {
                node.Input[i] = "";
            }
        }),
        Proto("second-input", (m, _, _) =>
        {
            var extra = m.Graph.Input[0].Clone();
            extra.Name = "extra_input";
            m.Graph.Input.Add(extra);
        }),
        Proto("no-graph", (m, _, _) => m.Graph = null),

        // Dimensions.
        Proto("initializer-dim-negative", (m, r, _) => MutateDim(m, r, _ => -r.Next(1, 5))),
        Proto("initializer-dim-huge", (m, r, _) => MutateDim(m, r, _ => r.Next(2) == 0 ? long.MaxValue / 3 : 1L << 40)),
        Proto("initializer-dim-off-by-one", (m, r, _) => MutateDim(m, r, d => d + (r.Next(2) == 0 ? 1 : -1))),
        Proto("initializer-dims-permuted", (m, r, _) =>
        {
            // The same element count in another shape: the data still fits, the node does not.
            var tensor = PickInitializer(m, r, t => t.Dims.Count >= 2);
            if (tensor is not null)
            {
                var dims = tensor.Dims.Reverse().ToList();
                tensor.Dims.Clear();
                tensor.Dims.Add(dims);
            }
        }),
        Proto("initializer-dims-dropped", (m, r, _) =>
        {
            var tensor = PickInitializer(m, r, t => t.Dims.Count >= 1);
            if (tensor is not null)
            {
                long count = tensor.Dims.Aggregate(1L, (a, d) => a * d);
                tensor.Dims.Clear();
                tensor.Dims.Add(count);
            }
        }),
        Proto("input-dim-negative", (m, r, _) => MutateInputDim(m, r, _ => -1)),
        Proto("input-dim-zero", (m, r, _) => MutateInputDim(m, r, _ => 0)),
        Proto("input-dim-huge", (m, r, _) => MutateInputDim(m, r, _ => r.Next(2) == 0 ? 65_536 : 1L << 31)),
        Proto("input-spatial-65536", (m, _, _) =>
        {
            var dims = InputDims(m);
            if (dims is { Count: 4 })
            {
                dims[2].DimValue = 65_536;
                dims[3].DimValue = 65_536;
            }
        }),
        Proto("input-channels-changed", (m, r, _) => MutateInputDim(m, r, _ => r.Next(2, 9), only: 1)),
        Proto("input-dynamic-spatial", (m, _, _) =>
        {
            var dims = InputDims(m);
            if (dims is { Count: 4 })
            {
                dims[2].DimParam = "height";
            }
        }),
        Proto("input-rank-2", (m, _, _) =>
        {
            var dims = InputDims(m);
            if (dims is { Count: 4 })
            {
                dims.RemoveAt(3);
                dims.RemoveAt(2);
            }
        }),
        Proto("input-no-shape", (m, _, _) =>
        {
            if (m.Graph.Input[0].Type?.TensorType is { } tensorType)
            {
                tensorType.Shape = null;
            }
        }),
        Proto("output-dim-negative", (m, _, _) =>
        {
            var dims = m.Graph.Output.Count > 0 ? m.Graph.Output[0].Type?.TensorType?.Shape?.Dim : null;
            if (dims is { Count: > 0 })
            {
                dims[^1].DimValue = -3;
            }
        }),
        Proto("many-nodes", (m, _, _) =>
        {
            // A chain of 200k Identity nodes after the first output.
            var output = m.Graph.Output[0];
            string previous = output.Name;
            for (int i = 0; i < 200_000; i++)
            {
                string name = $"chain_{i}";
                m.Graph.Node.Add(new NodeProto { OpType = "Identity", Name = name, Input = { previous }, Output = { name } });
                previous = name;
            }

            output.Name = previous;
        }),

        // Data.
        Proto("raw-data-short", (m, r, _) =>
        {
            var tensor = PickInitializer(m, r, t => t.RawData.Length > 4);
            if (tensor is not null)
            {
                tensor.RawData = ByteString.CopyFrom(tensor.RawData.Span[..r.Next(tensor.RawData.Length)]);
            }
        }),
        Proto("raw-data-long", (m, r, _) =>
        {
            var tensor = PickInitializer(m, r, t => t.RawData.Length > 0);
            if (tensor is not null)
            {
                tensor.RawData = ByteString.CopyFrom([.. tensor.RawData.ToByteArray(), 1, 2, 3, 4]);
            }
        }),
        Proto("raw-data-nan", (m, r, _) =>
        {
            var tensor = PickInitializer(m, r, t => t.RawData.Length >= 4 && t.DataType == (int)TensorProto.Types.DataType.Float);
            if (tensor is not null)
            {
                var bytes = tensor.RawData.ToByteArray();
                for (int i = 0; i + 4 <= bytes.Length; i += 4)
                {
                    BitConverter.TryWriteBytes(bytes.AsSpan(i), r.Next(3) switch { 0 => float.NaN, 1 => float.PositiveInfinity, _ => 3e38f });
                }

                tensor.RawData = ByteString.CopyFrom(bytes);
            }
        }),
        Proto("raw-data-moved-to-float-data", (m, r, _) =>
        {
            var tensor = PickInitializer(m, r, t => t.RawData.Length > 0);
            if (tensor is not null)
            {
                tensor.ClearRawData();
                tensor.FloatData.Add(1f);
            }
        }),
        Proto("initializer-type-changed", (m, r, _) =>
        {
            var tensor = PickInitializer(m, r, _ => true);
            if (tensor is not null)
            {
                tensor.DataType = r.Next(6) switch { 0 => 0, 1 => 7, 2 => 11, 3 => 8, 4 => 16, _ => 999 };
            }
        }),
        Proto("input-type-changed", (m, r, _) =>
        {
            var type = m.Graph.Input[0].Type?.TensorType;
            if (type is not null)
            {
                type.ElemType = r.Next(5) switch { 0 => 0, 1 => 7, 2 => 8, 3 => 10, _ => 999 };
            }
        }),
        Proto("input-not-a-tensor", (m, _, _) => m.Graph.Input[0].Type = new TypeProto()),
        Proto("initializer-as-string", (m, r, _) =>
        {
            var tensor = PickInitializer(m, r, _ => true);
            if (tensor is not null)
            {
                tensor.ClearRawData();
                tensor.FloatData.Clear();
                tensor.DataType = (int)TensorProto.Types.DataType.String;
                long count = tensor.Dims.Aggregate(1L, (a, d) => a * d);
                for (long i = 0; i < Math.Min(count, 10_000); i++)
                {
                    tensor.StringData.Add(ByteString.CopyFromUtf8("x"));
                }
            }
        }),

        // Operators and attributes.
        Proto("op-type-unknown", (m, r, _) => Pick(m.Graph.Node, r).OpType = "NoSuchOp"),
        Proto("op-type-swapped", (m, r, _) => Pick(m.Graph.Node, r).OpType = Pick(m.Graph.Node, r).OpType),
        Proto("op-domain-custom", (m, r, _) => Pick(m.Graph.Node, r).Domain = "com.example"),
        Proto("attribute-int-mutated", (m, r, _) => MutateAttribute(m, r, a =>
        {
            long value = r.Next(6) switch { 0 => 0, 1 => -1, 2 => 1L << 40, 3 => long.MinValue, 4 => 3, _ => -100 };
            if (a.Ints.Count > 0)
            {
                a.Ints[r.Next(a.Ints.Count)] = value;
            }
            else
            {
                a.I = value;
            }
        })),
        Proto("attribute-float-mutated", (m, r, _) => MutateAttribute(m, r, a => a.F = r.Next(3) switch { 0 => float.NaN, 1 => -1f, _ => 1e30f })),
        Proto("attribute-ints-cleared", (m, r, _) => MutateAttribute(m, r, a => a.Ints.Clear())),
        Proto("attribute-removed", (m, r, _) =>
        {
            var node = PickNode(m, r, n => n.Attribute.Count > 0);
            node?.Attribute.RemoveAt(r.Next(node.Attribute.Count));
        }),
        Proto("attribute-type-wrong", (m, r, _) => MutateAttribute(m, r, a =>
        {
            a.Type = AttributeProto.Types.AttributeType.String;
            a.S = ByteString.CopyFromUtf8("nonsense");
        })),
        Proto("node-input-dropped", (m, r, _) =>
        {
            var node = PickNode(m, r, n => n.Input.Count > 1);
            node?.Input.RemoveAt(node.Input.Count - 1);
        }),
        Proto("node-extra-output", (m, r, _) => Pick(m.Graph.Node, r).Output.Add("extra_" + r.Next(1000))),
        Proto("batchnorm-input-swapped", (m, r, _) =>
        {
            var node = PickNode(m, r, n => n.OpType == "BatchNormalization" && n.Input.Count == 5);
            if (node is not null)
            {
                (node.Input[1], node.Input[3]) = (node.Input[3], node.Input[1]);
                (node.Input[2], node.Input[4]) = (node.Input[4], node.Input[2]);
            }
        }),
        Proto("reshape-target-mutated", (m, r, _) =>
        {
            var node = PickNode(m, r, n => n.OpType == "Reshape" && n.Input.Count == 2);
            var shape = node is null ? null : m.Graph.Initializer.FirstOrDefault(t => t.Name == node.Input[1]);
            if (shape is not null)
            {
                shape.ClearRawData();
                shape.Int64Data.Clear();
                long[] values = [r.Next(-3, 3), r.Next(-1, 100), 1L << 40];
                shape.Int64Data.Add(values[..(int)Math.Clamp(shape.Dims.Aggregate(1L, (a, d) => a * d), 1, 3)]);
                shape.Dims.Clear();
                shape.Dims.Add(shape.Int64Data.Count);
            }
        }),

        // Versions.
        Proto("opset-mutated", (m, r, _) =>
        {
            var import = m.OpsetImport.FirstOrDefault(o => string.IsNullOrEmpty(o.Domain));
            if (import is not null)
            {
                import.Version = r.Next(5) switch { 0 => 1, 1 => 7, 2 => 99, 3 => -5, _ => 11 };
            }
        }),
        Proto("opset-removed", (m, _, _) => m.OpsetImport.Clear()),
        Proto("ir-version-mutated", (m, r, _) => m.IrVersion = r.Next(3) switch { 0 => 0, 1 => -1, _ => 99 }),

        // External data.
        Proto("external-escapes-parent", (m, r, folder) => MakeExternal(m, r, folder, "../secret.bin", writeFile: false), Expectation.Refused),
        Proto("external-absolute", (m, r, folder) => MakeExternal(m, r, folder, "/etc/passwd", writeFile: false), Expectation.Refused),
        Proto("external-through-folder-link", (m, r, folder) =>
        {
            Directory.CreateSymbolicLink(Path.Combine(folder, "etc"), "/etc");
            MakeExternal(m, r, folder, "etc/passwd", writeFile: false);
        }, Expectation.Refused),
        Proto("external-file-link", (m, r, folder) =>
        {
            File.CreateSymbolicLink(Path.Combine(folder, "weights.bin"), "/etc/hostname");
            MakeExternal(m, r, folder, "weights.bin", writeFile: false);
        }, Expectation.Refused),
        Proto("external-missing", (m, r, folder) => MakeExternal(m, r, folder, "absent.bin", writeFile: false)),
        Proto("external-short", (m, r, folder) => MakeExternal(m, r, folder, "weights.bin", writeFile: true, truncate: true)),
        Proto("external-offset-huge", (m, r, folder) => MakeExternal(m, r, folder, "weights.bin", writeFile: true, offset: long.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture))),
        Proto("external-length-negative", (m, r, folder) => MakeExternal(m, r, folder, "weights.bin", writeFile: true, length: "-8")),
        Proto("external-length-text", (m, r, folder) => MakeExternal(m, r, folder, "weights.bin", writeFile: true, length: "many")),
        Proto("external-folder", (m, r, folder) =>
        {
            Directory.CreateDirectory(Path.Combine(folder, "weights.bin"));
            MakeExternal(m, r, folder, "weights.bin", writeFile: false);
        }),
        Proto("external-fifo", (m, r, folder) =>
        {
            MakeFifo(Path.Combine(folder, "weights.bin"));
            MakeExternal(m, r, folder, "weights.bin", writeFile: false);
        }),
        Proto("external-valid", (m, r, folder) => MakeExternal(m, r, folder, "weights.bin", writeFile: true)),
    ];

    /// <summary>Writes case <paramref name="index"/> into <paramref name="folder"/> (created empty) and returns it.</summary>
    public FuzzCase Create(int index, string folder)
    {
        Directory.CreateDirectory(folder);
        // Mixed by hand: HashCode.Combine is randomised per process, and a case must be the same in every run.
        var random = new Random(unchecked((_seed * 7919) + (index * 104_729)) & int.MaxValue);
        string asset = Assets[index % Assets.Length];
        var applied = new List<Mutation> { Mutations[index % Mutations.Count] };
        // Every third case stacks one or two more mutations on the first (structure before bytes).
        if (index % 3 == 2)
        {
            for (int extra = random.Next(1, 3); extra > 0; extra--)
            {
                var more = Mutations[random.Next(Mutations.Count)];
                if (more.Name != "many-nodes" && !more.Name.StartsWith("external-", StringComparison.Ordinal) && !applied.Contains(more))
                {
                    applied.Add(more);
                }
            }
        }

        applied = [.. applied.OrderBy(m => m.IsBytes ? 1 : 0)];
        var model = ModelProto.Parser.ParseFrom(AssetBytes(asset));
        foreach (var mutation in applied.Where(m => !m.IsBytes))
        {
            if (model.Graph is null && mutation.Name != "no-graph")
            {
                continue;
            }

            try
            {
                mutation.ApplyProto!(model, random, folder);
            }
            catch (ArgumentOutOfRangeException)
            {
                // A stacked mutation that finds nothing left to change (no nodes, no inputs) is skipped.
            }
        }

        byte[] bytes = model.ToByteArray();
        foreach (var mutation in applied.Where(m => m.IsBytes))
        {
            bytes = mutation.ApplyBytes!(bytes, random);
        }

        string path = Path.Combine(folder, "model.onnx");
        File.WriteAllBytes(path, bytes);
        var expectation = applied.Any(m => m.Expectation == Expectation.Refused) ? Expectation.Refused : Expectation.Either;
        return new FuzzCase(index, asset, string.Join("+", applied.Select(m => m.Name)), path, expectation);
    }

    private static byte[] AssetBytes(string asset)
    {
        lock (s_assetBytes)
        {
            if (!s_assetBytes.TryGetValue(asset, out var bytes))
            {
                bytes = File.ReadAllBytes(RepoPaths.Model(asset));
                s_assetBytes[asset] = bytes;
            }

            return bytes;
        }
    }

    /// <summary>A mutation of the bytes; an empty file (after <c>empty-file</c>) is left as it is.</summary>
    private static Mutation Bytes(string name, Func<byte[], Random, byte[]> apply) =>
        new(name, null, (bytes, random) => bytes.Length == 0 ? bytes : apply(bytes, random), Expectation.Either);

    private static Mutation Proto(string name, Action<ModelProto, Random, string> apply, Expectation expectation = Expectation.Either) =>
        new(name, apply, null, expectation);

    private static T Pick<T>(IList<T> items, Random random) => items[random.Next(items.Count)];

    private static NodeProto? PickNode(ModelProto model, Random random, Func<NodeProto, bool> where)
    {
        var nodes = model.Graph.Node.Where(where).ToList();
        return nodes.Count == 0 ? null : Pick(nodes, random);
    }

    /// <summary>An initializer, or the value of a Constant node when the model keeps its weights there.</summary>
    private static TensorProto? PickInitializer(ModelProto model, Random random, Func<TensorProto, bool> where)
    {
        var tensors = model.Graph.Initializer
            .Concat(model.Graph.Node.SelectMany(n => n.Attribute).Where(a => a.T is not null).Select(a => a.T))
            .Where(where).ToList();
        return tensors.Count == 0 ? null : Pick(tensors, random);
    }

    private static void RenameInput(ModelProto model, Random random, Func<string, string> rename)
    {
        var node = PickNode(model, random, n => n.Input.Count > 0);
        if (node is not null)
        {
            int i = random.Next(node.Input.Count);
            node.Input[i] = rename(node.Input[i]);
        }
    }

    private static void MutateDim(ModelProto model, Random random, Func<long, long> change)
    {
        var tensor = PickInitializer(model, random, t => t.Dims.Count > 0);
        if (tensor is not null)
        {
            int i = random.Next(tensor.Dims.Count);
            tensor.Dims[i] = change(tensor.Dims[i]);
        }
    }

    private static IList<TensorShapeProto.Types.Dimension>? InputDims(ModelProto model)
    {
        var initializers = model.Graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        return model.Graph.Input.FirstOrDefault(i => !initializers.Contains(i.Name))?.Type?.TensorType?.Shape?.Dim;
    }

    private static void MutateInputDim(ModelProto model, Random random, Func<long, long> change, int? only = null)
    {
        var dims = InputDims(model);
        if (dims is { Count: > 0 })
        {
            int i = only is { } index && index < dims.Count ? index : random.Next(dims.Count);
            dims[i].DimValue = change(dims[i].DimValue);
        }
    }

    private static void MutateAttribute(ModelProto model, Random random, Action<AttributeProto> change)
    {
        var node = PickNode(model, random, n => n.Attribute.Count > 0);
        if (node is not null)
        {
            change(Pick(node.Attribute, random));
        }
    }

    /// <summary>Moves the largest tensor's data to an external location with the given keys.</summary>
    private static void MakeExternal(ModelProto model, Random random, string folder, string location, bool writeFile,
        bool truncate = false, string? offset = null, string? length = null)
    {
        // The largest tensor with raw data: an initializer, or a Constant node's value (Paddle-style weights).
        var tensor = model.Graph.Initializer
            .Concat(model.Graph.Node.SelectMany(n => n.Attribute).Where(a => a.T is not null).Select(a => a.T))
            .Where(t => t.RawData.Length > 0).OrderByDescending(t => t.RawData.Length).FirstOrDefault();
        if (tensor is null)
        {
            return;
        }

        var data = tensor.RawData.ToByteArray();
        if (writeFile)
        {
            File.WriteAllBytes(Path.Combine(folder, location), truncate ? data[..random.Next(data.Length)] : data);
        }

        tensor.ClearRawData();
        tensor.DataLocation = TensorProto.Types.DataLocation.External;
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        if (offset is not null)
        {
            tensor.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset });
        }

        tensor.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = length ?? data.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) });
    }

    private static void MakeFifo(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            File.WriteAllBytes(path, []);
            return;
        }

        using var mkfifo = System.Diagnostics.Process.Start("mkfifo", [path]);
        mkfifo.WaitForExit();
    }
}

/// <summary>What a case must end in.</summary>
internal enum Expectation
{
    /// <summary>Success or a DSG error, never an internal error, a hang or a crash.</summary>
    Either,

    /// <summary>A DSG error: the case would read outside the model folder if it succeeded.</summary>
    Refused,
}

/// <summary>One mutation: of the protobuf (given the case's folder for any files it needs) or of the serialized bytes.</summary>
internal sealed record Mutation(string Name, Action<ModelProto, Random, string>? ApplyProto, Func<byte[], Random, byte[]>? ApplyBytes, Expectation Expectation)
{
    public bool IsBytes => ApplyBytes is not null;
}

/// <summary>A generated case: its number, the asset it came from, the mutations applied and the model file.</summary>
internal sealed record FuzzCase(int Index, string Asset, string Mutations, string ModelPath, Expectation Expectation);
