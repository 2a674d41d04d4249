using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Dsg.Core.Generation;
using Dsg.Core.Graph;
using Dsg.Core.Onnx;
using Dsg.Eng;
using TorchSharp;
using static TorchSharp.torch;

// Timed harness for sample generation (see docs/performance.md).
//   dotnet run -c Release --project eng/bench/Dsg.Bench -- iteration MODEL [--batch 64] [--threads 2] [--reps 30] [--warmup 5]
//   dotnet run -c Release --project eng/bench/Dsg.Bench -- memory MODEL [--batch 64] [--batches 20] [--iterations 10] [--threads 2]
//   dotnet run -c Release --project eng/bench/Dsg.Bench -- statistics MODEL [--batch 64] [--threads 2] [--reps 30] [--warmup 5]
//   dotnet run -c Release --project eng/bench/Dsg.Bench -- quality MODEL [--samples 64] [--batch 64] [--iterations 100] [--set Key=Value,...]...
// Each measurement prints one JSON line; medians are over --reps timed repetitions after --warmup untimed ones.
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: Dsg.Bench iteration|memory MODEL [--batch N] [--threads N] [--reps N] [--warmup N] [--batches N] [--iterations N]");
    return 2;
}

string mode = args[0], modelPath = args[1];
int Option(string name, int fallback)
{
    int i = Array.IndexOf(args, "--" + name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

int batch = Option("batch", 64), threads = Option("threads", 2), reps = Option("reps", 30), warmup = Option("warmup", 5);
set_num_threads(threads);
using var graph = TorchGraph.Create(OnnxModel.Load(modelPath));
string name = Path.GetFileName(modelPath);

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
}

void Emit(string measure, (List<double> Wall, List<double> Cpu) ms)
{
    var sorted = ms.Wall.Order().ToArray();
    double median = Median(sorted);
    Console.WriteLine(JsonSerializer.Serialize(new
    {
        model = name,
        measure,
        batch,
        threads = get_num_threads(),
        reps = sorted.Length,
        median_ms = Math.Round(median, 3),
        min_ms = Math.Round(sorted[0], 3),
        max_ms = Math.Round(sorted[^1], 3),
        median_cpu_ms = Math.Round(Median(ms.Cpu), 3),
        all_ms = ms.Wall.Select(v => Math.Round(v, 3)).ToArray(),
    }));
}

if (mode == "iteration")
{
    // (a) bare forward + backward w.r.t. the input through the same TorchGraph, no capture, no loss terms.
    Emit("bare_forward_backward", Bare(ForwardCapture.None));
    // (a') the same with the BN inputs captured (what the generator's forward asks for).
    Emit("forward_backward_bn_capture", Bare(ForwardCapture.BatchNormInputs));
    // The real generation loop, timed between consecutive per-iteration progress reports.
    Emit("dsg_iteration", Loop(GenerationMethod.Dsg));
    Emit("zeroq_iteration", Loop(GenerationMethod.ZeroQ));
    return 0;
}

if (mode == "statistics")
{
    // Forward + backward with every BatchNorm input's per-sample moments in the loss, the two ways in turn within each
    // repetition: libtorch's ops on the captured inputs (sum and norm, autograd's backward and accumulation) and the
    // layers' own fused moments (ForwardCapture.BatchNormMoments); the paired difference cancels the machine's drift.
    var libtorch = (Wall: new List<double>(), Cpu: new List<double>());
    var fused = (Wall: new List<double>(), Cpu: new List<double>());
    var difference = (Wall: new List<double>(), Cpu: new List<double>());
    for (int r = 0; r < warmup + reps; r++)
    {
        var (wallA, cpuA) = Statistics(ForwardCapture.BatchNormInputs);
        var (wallB, cpuB) = Statistics(ForwardCapture.BatchNormMoments);
        if (r >= warmup)
        {
            libtorch.Wall.Add(wallA); libtorch.Cpu.Add(cpuA);
            fused.Wall.Add(wallB); fused.Cpu.Add(cpuB);
            difference.Wall.Add(wallA - wallB); difference.Cpu.Add(cpuA - cpuB);
        }
    }

    Emit("statistics_libtorch", libtorch);
    Emit("statistics_fused", fused);
    Emit("statistics_saved", difference);
    return 0;
}

if (mode == "loop")
{
    // The generation loop under each --set configuration (for finding what an iteration spends its time on).
    foreach (var configuration in args.Select((a, i) => (a, i)).Where(t => t.a == "--set").Select(t => args[t.i + 1]))
    {
        Emit("loop:" + configuration, Loop(GenerationMethod.Dsg, configuration));
    }

    return 0;
}

if (mode == "memory")
{
    int batches = Option("batches", 20), iterations = Option("iterations", 10);
    var rss = new List<double>();
    var live = new List<long>();
    var managed = new List<double>();
    var options = new GenerationOptions
    {
        Samples = batches * batch,
        BatchSize = batch,
        Iterations = iterations,
        Device = "cpu",
        ProgressStride = iterations,
    };
    var progress = new Callback(p =>
    {
        if (p.Iteration == p.Iterations)
        {
            if (args.Contains("--collect"))
            {
                // Full GC and finalizers first, so that what remains is memory still held, not garbage awaiting collection.
                GC.Collect();
                GC.WaitForPendingFinalizers();
                GC.Collect();
            }

            rss.Add(ReadStatusKb("VmRSS") / 1024.0);
            live.Add(TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount);
            managed.Add(GC.GetTotalMemory(forceFullCollection: false) / 1048576.0);
        }
    });
    var stopwatch = Stopwatch.StartNew();
    SampleGenerator.Generate(graph, options, progress);
    Console.WriteLine(JsonSerializer.Serialize(new
    {
        model = name,
        measure = "rss_after_each_batch_mib",
        batch,
        batches,
        iterations,
        threads = get_num_threads(),
        seconds = Math.Round(stopwatch.Elapsed.TotalSeconds, 1),
        rss_mib = rss.Select(v => Math.Round(v, 1)).ToArray(),
        growth_batch2_to_last_mib = Math.Round(rss[^1] - rss[Math.Min(1, rss.Count - 1)], 1),
        live_tensors = live,
        managed_heap_mib = managed.Select(v => Math.Round(v, 1)).ToArray(),
        peak_rss_mib = Math.Round(ReadStatusKb("VmHWM") / 1024.0, 1),
    }));
    return 0;
}

if (mode == "quality")
{
    // One generation per configuration; each --set list is applied to the defaults (Key=Value,Key=Value).
    int samples = Option("samples", 64), iterations = Option("iterations", 100);
    var configurations = args.Select((a, i) => (a, i)).Where(t => t.a == "--set").Select(t => args[t.i + 1]).DefaultIfEmpty("Method=Dsg").ToArray();
    foreach (var configuration in configurations)
    {
        var options = GenerationOverrides.Apply(new GenerationOptions { Samples = samples, BatchSize = batch, Iterations = iterations, Device = "cpu", CurveStride = 10 }, configuration);
        using var result = SampleGenerator.Generate(graph, options);
        var diversity = result.Diversity!;
        string? outDir = args.SkipWhile(a => a != "--out").Skip(1).FirstOrDefault();
        if (outDir is not null)
        {
            GenerationOutputWriter.Write(Path.Combine(outDir, configuration.Replace(',', '_').Replace('=', '-')), result);
        }

        var bn = result.Curve("bn");
        double first = bn?.Points.Where(p => p.Iteration == 0).Average(p => p.Value) ?? double.NaN;
        double last = bn?.Points.Where(p => p.Iteration == iterations - 1).Average(p => p.Value) ?? double.NaN;
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            model = name,
            set = configuration,
            samples,
            batch,
            iterations,
            seconds = Math.Round(result.Seconds, 1),
            bn_first = first,
            bn_last = last,
            bn_drop = 1 - (last / first),
            diversity.BatchNormSpread,
            diversity.BatchNormMeanSpread,
            diversity.BatchNormStdSpread,
            diversity.PixelCosine,
            diversity.FeatureCosine,
            diversity.BatchNormGap,
        }, s_json));
    }

    string? data = args.SkipWhile(a => a != "--data").Skip(1).FirstOrDefault();
    if (data is not null)
    {
        var (values, shape) = Dsg.Core.Data.NpyFile.ReadFloat32(data);
        using var scope = NewDisposeScope();
        var metrics = DiversityMetrics.Compute(graph, tensor(values, shape), batch);
        Console.WriteLine(JsonSerializer.Serialize(new { model = name, set = "real:" + Path.GetFileName(data), samples = shape[0], metrics.BatchNormSpread, metrics.PixelCosine, metrics.FeatureCosine, metrics.BatchNormGap }, s_json));
    }

    return 0;
}

Console.Error.WriteLine($"unknown mode '{mode}'");
return 2;

(List<double> Wall, List<double> Cpu) Bare(ForwardCapture capture)
{
    using var outer = NewDisposeScope();
    var shape = new long[] { batch, graph.InputShape[0], graph.InputShape[1], graph.InputShape[2] };
    using var generator = new Generator(0);
    var x = randn(shape, generator: generator).requires_grad_(true);
    var times = new List<double>();
    var cpu = new List<double>();
    for (int r = 0; r < warmup + reps; r++)
    {
        using var scope = NewDisposeScope();
        var start = Stopwatch.GetTimestamp();
        var cpuStart = CpuMs();
        x.grad?.zero_();
        var outputs = graph.Forward(x, capture);
        TorchGraph.Backward(outputs.Outputs[0].sum(), outputs.Kernels);
        double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        if (r >= warmup)
        {
            times.Add(ms);
            cpu.Add(CpuMs() - cpuStart);
        }
    }

    return (times, cpu);
}

(double Wall, double Cpu) Statistics(ForwardCapture capture)
{
    using var scope = NewDisposeScope();
    using var generator = new Generator(0);
    var x = randn([batch, .. graph.InputShape], generator: generator).requires_grad_(true);
    var start = Stopwatch.GetTimestamp();
    var cpuStart = CpuMs();
    var outputs = graph.Forward(x, capture);
    // Scalars held across the libtorch calls (eng/BannedSymbols.txt).
    using var one = 1.0.ToScalar();
    var loss = outputs.Outputs[0].sum();
    if (capture == ForwardCapture.BatchNormMoments)
    {
        foreach (var (mean, meanSquare) in outputs.BatchNormMoments)
        {
            loss = loss.add(mean.sum(), one).add(meanSquare.sum(), one);
        }
    }
    else
    {
        foreach (var input in outputs.BatchNormInputs)
        {
            var flat = input.reshape(input.shape[0], input.shape[1], -1);
            using var positions = ((double)flat.shape[2]).ToScalar();
            var meanSquare = flat.norm(2, keepdim: false, p: 2f).square().div(positions);
            loss = loss.add(flat.mean([2]).sum(), one).add(meanSquare.sum(), one);
        }
    }

    TorchGraph.Backward(loss, outputs.Kernels);
    return (Stopwatch.GetElapsedTime(start).TotalMilliseconds, CpuMs() - cpuStart);
}

(List<double> Wall, List<double> Cpu) Loop(GenerationMethod method, string configuration = "")
{
    var stamps = new List<long>();
    var cpuStamps = new List<double>();
    var options = GenerationOverrides.Apply(new GenerationOptions
    {
        Method = method,
        Samples = batch,
        BatchSize = batch,
        Iterations = warmup + reps + 1,
        Device = "cpu",
        ProgressStride = 1,
        CurveStride = 1000,
    }, configuration);
    SampleGenerator.Generate(graph, options, new Callback(_ =>
    {
        stamps.Add(Stopwatch.GetTimestamp());
        cpuStamps.Add(CpuMs());
    }));
    var times = new List<double>();
    var cpu = new List<double>();
    for (int i = warmup + 1; i < stamps.Count; i++)
    {
        times.Add(Stopwatch.GetElapsedTime(stamps[i - 1], stamps[i]).TotalMilliseconds);
        cpu.Add(cpuStamps[i] - cpuStamps[i - 1]);
    }

    return (times, cpu);
}

// CPU time of the whole process (all threads), so contention from other processes inflates it much less than wall time.
static double CpuMs() => Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds;

static double ReadStatusKb(string key)
{
    foreach (var line in File.ReadLines("/proc/self/status"))
    {
        if (line.StartsWith(key + ":", StringComparison.Ordinal))
        {
            return double.Parse(line[(key.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
    }

    return double.NaN;
}

internal static partial class Program
{
    private static readonly JsonSerializerOptions s_json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };
}

/// <summary>Synchronous progress (Progress&lt;T&gt; would post to the thread pool and blur the timestamps).</summary>
internal sealed class Callback(Action<GenerationProgress> report) : IProgress<GenerationProgress>
{
    public void Report(GenerationProgress value) => report(value);
}
