using System.Text.RegularExpressions;
using Dsg.Tests.Shared;

namespace Dsg.Core.Tests;

/// <summary>
/// Issue 13, item 5: Dsg.Core's folders depend on each other one way, so each can be read without the ones above it.
/// The test reads the sources of src/Dsg.Core, finds for each top-level folder the Dsg.Core namespaces it refers to
/// (using directives, fully-qualified names, names qualified from Dsg.Core such as <c>Pipeline.QuantizePipeline</c> in
/// code or a cref), and fails on an edge that <see cref="Allowed"/> does not list or on a cycle.
/// </summary>
public sealed partial class FolderDependencyTests
{
    /// <summary>The root folder (DsgException, ErrorCodes, AtomicFile, ...): every folder may use it; it uses none.</summary>
    private const string Root = ".";

    /// <summary>
    /// What each folder may use (besides itself and the root). Onnx ← Runtime, Onnx ← Graph ← Generation,
    /// Onnx ← Quantization ← Evaluation, Graph ← Quantization (refinement runs on TorchSharp); Pipeline on top. Adding an edge here is a design decision: it must not close a cycle.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string[]> Allowed = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        [Root] = [],
        ["Caching"] = [],
        ["Data"] = [],
        ["Onnx"] = [],
        ["Runtime"] = ["Onnx"],
        ["Graph"] = ["Onnx"],
        ["Generation"] = ["Onnx", "Runtime", "Graph", "Data"],
        ["Quantization"] = ["Onnx", "Runtime", "Graph", "Data"],
        ["Evaluation"] = ["Onnx", "Runtime", "Data", "Quantization"],
        ["Inspection"] = ["Onnx", "Runtime", "Graph"],
        ["Pipeline"] = ["Onnx", "Runtime", "Graph", "Generation", "Quantization", "Evaluation", "Inspection", "Data", "Caching"],
    };

    [Fact]
    public void Every_folder_uses_only_the_folders_it_is_allowed_to()
    {
        var graph = FolderGraph.Read(SourceRoot);

        var unexpected = graph.Edges
            .Where(e => !Allowed.TryGetValue(e.Key.From, out var to) || !to.Contains(e.Key.To))
            .Select(e => $"{e.Key.From} -> {e.Key.To} ({string.Join(", ", e.Value.Order(StringComparer.Ordinal))})")
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.True(unexpected.Count == 0,
            "Dsg.Core folder dependencies outside FolderDependencyTests.Allowed (keep Onnx at the bottom and Pipeline on top; move the type or add the edge deliberately):\n"
            + string.Join("\n", unexpected));
    }

    [Fact]
    public void The_folder_graph_has_no_cycle()
    {
        var graph = FolderGraph.Read(SourceRoot);

        var cycle = FindCycle(graph.Edges.Keys.Select(e => (e.From, e.To)));

        Assert.True(cycle is null, "Dsg.Core folders depend on each other in a cycle: " + string.Join(" -> ", cycle ?? []));
    }

    [Fact]
    public void The_allowed_edges_are_one_way_and_name_every_folder()
    {
        Assert.Null(FindCycle(Allowed.SelectMany(a => a.Value.Select(to => (a.Key, to)))));

        var folders = FolderGraph.Read(SourceRoot).Folders;
        Assert.Equal(folders.Order(StringComparer.Ordinal), Allowed.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Every_file_declares_the_namespace_of_its_folder()
    {
        var wrong = new List<string>();
        foreach (var file in FolderGraph.SourceFiles(SourceRoot))
        {
            var relative = Path.GetRelativePath(SourceRoot, Path.GetDirectoryName(file)!);
            string expected = relative == "." ? "Dsg.Core" : "Dsg.Core." + relative.Replace(Path.DirectorySeparatorChar, '.');
            var declared = NamespaceDeclaration().Match(File.ReadAllText(file));
            if (!declared.Success || declared.Groups["name"].Value != expected)
            {
                wrong.Add($"{Path.GetRelativePath(SourceRoot, file)}: {(declared.Success ? declared.Groups["name"].Value : "(none)")}, expected {expected}");
            }
        }

        Assert.True(wrong.Count == 0, "Files whose namespace does not match their folder:\n" + string.Join("\n", wrong));
    }

    [Fact]
    public void The_reader_sees_usings_fully_qualified_names_and_names_qualified_from_Dsg_Core()
    {
        var dir = Directory.CreateTempSubdirectory("dsg-folders-").FullName;
        try
        {
            Write(dir, "Onnx/A.cs", "namespace Dsg.Core.Onnx;\npublic sealed class OnnxThing { }\n");
            Write(dir, "Graph/B.cs", "using Dsg.Core.Onnx;\nnamespace Dsg.Core.Graph;\npublic sealed class GraphThing { }\n");
            Write(dir, "Quantization/C.cs", "namespace Dsg.Core.Quantization;\npublic sealed class C { global::Dsg.Core.Graph.GraphThing? _g; }\n");
            Write(dir, "Evaluation/D.cs", "namespace Dsg.Core.Evaluation;\n/// <see cref=\"Pipeline.Job\"/>\npublic sealed class D { object? Graph; int Data => Graph.GetHashCode(); }\n");
            Write(dir, "Pipeline/E.cs", "namespace Dsg.Core.Pipeline;\npublic sealed class Job { }\n");
            Write(dir, "Data/F.cs", "namespace Dsg.Core.Data;\npublic sealed class Length { }\n");

            var edges = FolderGraph.Read(dir).Edges.Keys.Select(e => $"{e.From}->{e.To}").Order(StringComparer.Ordinal);

            // D's Graph and Data are members (Graph.GetHashCode names no type of Dsg.Core.Graph): no edge.
            Assert.Equal(["Evaluation->Pipeline", "Graph->Onnx", "Quantization->Graph"], edges);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string SourceRoot => Path.Combine(RepoPaths.Root, "src", "Dsg.Core");

    private static void Write(string root, string relative, string text)
    {
        var path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    /// <summary>A cycle (first node repeated at the end) in the directed graph, or null.</summary>
    private static List<string>? FindCycle(IEnumerable<(string From, string To)> edges)
    {
        var next = edges.GroupBy(e => e.From).ToDictionary(g => g.Key, g => g.Select(e => e.To).Distinct().Order(StringComparer.Ordinal).ToList());
        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1: on the path, 2: done
        var path = new List<string>();

        List<string>? Visit(string node)
        {
            state[node] = 1;
            path.Add(node);
            foreach (var to in next.GetValueOrDefault(node) ?? [])
            {
                if (state.GetValueOrDefault(to) == 1)
                {
                    return [.. path.Skip(path.IndexOf(to)), to];
                }

                if (state.GetValueOrDefault(to) == 0 && Visit(to) is { } found)
                {
                    return found;
                }
            }

            path.RemoveAt(path.Count - 1);
            state[node] = 2;
            return null;
        }

        foreach (var node in next.Keys.Order(StringComparer.Ordinal))
        {
            if (state.GetValueOrDefault(node) == 0 && Visit(node) is { } cycle)
            {
                return cycle;
            }
        }

        return null;
    }

    [GeneratedRegex(@"^\s*namespace\s+(?<name>[\w.]+)", RegexOptions.Multiline)]
    private static partial Regex NamespaceDeclaration();

    /// <summary>The folders of Dsg.Core and, per edge between two of them, the files that make it.</summary>
    private sealed partial class FolderGraph
    {
        public required IReadOnlySet<string> Folders { get; init; }

        public required IReadOnlyDictionary<(string From, string To), SortedSet<string>> Edges { get; init; }

        public static IEnumerable<string> SourceFiles(string root) =>
            Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
                .Where(f => !Path.GetRelativePath(root, f).Split(Path.DirectorySeparatorChar).Any(p => p is "bin" or "obj"));

        public static FolderGraph Read(string root)
        {
            var files = SourceFiles(root).Select(f => (Path: f, Folder: FolderOf(root, f), Text: File.ReadAllText(f))).ToList();
            var folders = files.Select(f => f.Folder).ToHashSet(StringComparer.Ordinal);

            // What each folder's namespace (with its sub-namespaces) declares: types and nested namespace names, for
            // recognising Folder.Type written inside another Dsg.Core namespace.
            var declared = folders.ToDictionary(f => f, _ => new HashSet<string>(StringComparer.Ordinal), StringComparer.Ordinal);
            foreach (var file in files.Where(f => f.Folder != Root))
            {
                declared[file.Folder].UnionWith(TypeDeclaration().Matches(file.Text).Select(m => m.Groups["name"].Value));
                declared[file.Folder].UnionWith(Path.GetRelativePath(root, file.Path).Split(Path.DirectorySeparatorChar).Skip(1).SkipLast(1));
            }

            foreach (var proto in Directory.EnumerateFiles(root, "*.proto", SearchOption.AllDirectories))
            {
                if (ProtoNamespace().Match(File.ReadAllText(proto)) is { Success: true } m && m.Groups["folder"].Value is var f && declared.ContainsKey(f))
                {
                    declared[f].Add(m.Groups["rest"].Value.Split('.')[0]);
                }
            }

            var edges = new Dictionary<(string, string), SortedSet<string>>();
            foreach (var (path, folder, text) in files)
            {
                var used = QualifiedFromDsgCore().Matches(text).Select(m => m.Groups["folder"].Value)
                    .Concat(QualifiedFromInside().Matches(text)
                        .Where(m => declared.TryGetValue(m.Groups["folder"].Value, out var names) && names.Contains(m.Groups["next"].Value))
                        .Select(m => m.Groups["folder"].Value));
                foreach (var to in used.Where(u => u != folder && folders.Contains(u)))
                {
                    if (!edges.TryGetValue((folder, to), out var set))
                    {
                        edges[(folder, to)] = set = new SortedSet<string>(StringComparer.Ordinal);
                    }

                    set.Add(Path.GetRelativePath(root, path));
                }
            }

            return new FolderGraph { Folders = folders, Edges = edges };
        }

        private static string FolderOf(string root, string file)
        {
            var parts = Path.GetRelativePath(root, file).Split(Path.DirectorySeparatorChar);
            return parts.Length == 1 ? Root : parts[0];
        }

        [GeneratedRegex(@"\b(?:class|record|struct|interface|enum|delegate\s+[\w<>\[\],? ]+?)\s+(?<name>[A-Z]\w*)")]
        private static partial Regex TypeDeclaration();

        [GeneratedRegex(@"csharp_namespace\s*=\s*""Dsg\.Core\.(?<folder>\w+)\.(?<rest>[\w.]+)""")]
        private static partial Regex ProtoNamespace();

        /// <summary>Dsg.Core.Folder anywhere: using directives (plain, static, alias, global) and fully-qualified names.</summary>
        [GeneratedRegex(@"\bDsg\.Core\.(?<folder>[A-Z]\w*)")]
        private static partial Regex QualifiedFromDsgCore();

        /// <summary>Folder.Next not preceded by a member access: inside namespace Dsg.Core.X, Pipeline.QuantizePipeline is Dsg.Core.Pipeline's.</summary>
        [GeneratedRegex(@"(?<![\w.])(?<folder>[A-Z]\w*)\.(?<next>[A-Z]\w*)")]
        private static partial Regex QualifiedFromInside();
    }
}
