using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Plateau.Contracts.Errors;
using Plateau.Models.Runtime;
using Plateau.Models.Zoo;
using TorchSharp;
using static TorchSharp.torch;

namespace Plateau.Bench;

/// <summary>
/// <c>plateau-bench train</c>: one CPU training step (SGD momentum 0.9, weight decay 1e-4, cross-entropy)
/// for resnet20_cifar at batch 128, 32x32 and se_resnet50 at batch 8, 224x224, beside the same step in
/// PyTorch (bench/python/train_step.py --serve) when /usr/bin/python3 has torch.
/// </summary>
/// <remarks>
/// The two sides are measured interleaved, step for step (ours, theirs, theirs, ours, ...), with both
/// processes alive: on a shared VM the speed of the whole machine drifts by 20% within a minute, so
/// measuring one side after the other compares two machines. The ratio reported is the median of the
/// per-pair ratios; the medians of each side are printed beside it.
/// </remarks>
public static class TrainStepBenchmark
{
    private sealed record Case(string Model, int Batch, int Size);

    private static readonly Case[] DefaultCases = [new("resnet20_cifar", 128, 32), new("se_resnet50", 8, 224)];

    public static Command Build()
    {
        var model = new Option<string?>("--model") { Description = "Measure this model only (plateau models); default: resnet20_cifar at batch 128 and se_resnet50 at batch 8." }.RegisteredModel();
        var batch = new Option<int?>("--batch") { Description = "Batch with --model (default 8)." }.Positive();
        var size = new Option<int?>("--size") { Description = "Input side in pixels with --model (default: the model's native size)." }.Positive();
        var threads = new Option<int>("--threads") { Description = "libtorch threads (and OMP_NUM_THREADS of the PyTorch side).", DefaultValueFactory = _ => 2 }.Positive();
        var steps = new Option<int>("--steps") { Description = "Interleaved timed steps per side.", DefaultValueFactory = _ => 20 }.Positive();
        var warmup = new Option<int>("--warmup") { Description = "Warm-up steps per side before timing.", DefaultValueFactory = _ => 5 }.NonNegative();
        var noPython = new Option<bool>("--no-python") { Description = "Measure the Plateau side only." };
        var python = new Option<string>("--python") { Description = "Python with torch for the PyTorch side.", DefaultValueFactory = _ => "/usr/bin/python3" };
        var pythonEnv = new Option<string[]>("--python-env") { Description = "Environment variable for the PyTorch side (repeatable).", HelpName = "KEY=VALUE" };
        pythonEnv.Validators.Add(result =>
        {
            foreach (var assignment in result.GetValueOrDefault<string[]>() ?? [])
            {
                if (assignment.IndexOf('=', StringComparison.Ordinal) <= 0)
                {
                    result.AddError($"--python-env takes KEY=VALUE, got {Quote.Value(assignment)}");
                }
            }
        });
        var command = new Command("train", "One CPU training step (SGD momentum, cross-entropy) vs the same step in PyTorch, interleaved.")
        {
            model, batch, size, threads, steps, warmup, noPython, python, pythonEnv,
        };
        // --batch and --size describe the --model case; without it the two default cases run as they are.
        command.Validators.Add(result =>
        {
            if (result.GetValue(model) is null && (result.GetResult(batch) is not null || result.GetResult(size) is not null))
            {
                result.AddError("--batch and --size need --model");
            }
        });
        command.SetAction(parseResult =>
        {
            var environment = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var assignment in parseResult.GetValue(pythonEnv) ?? [])
            {
                var equals = assignment.IndexOf('=', StringComparison.Ordinal);
                environment[assignment[..equals]] = assignment[(equals + 1)..];
            }
            var name = parseResult.GetValue(model);
            Case[] cases = name is null ? DefaultCases : [new(name, parseResult.GetValue(batch) ?? 8, parseResult.GetValue(size) ?? ModelRegistry.Describe(name).NativeInputSize)];
            return Run(cases, parseResult.GetValue(threads), parseResult.GetValue(steps), parseResult.GetValue(warmup),
                parseResult.GetValue(noPython) ? null : parseResult.GetValue(python)!, environment);
        });
        return command;
    }

    /// <summary>Measures each case; <paramref name="python"/> null leaves the PyTorch side out.</summary>
    private static int Run(Case[] cases, int threads, int steps, int warmup, string? python, Dictionary<string, string> pythonEnvironment)
    {
        TrainingProcess.Initialise(threads);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"CPU training step, {threads} threads, {steps} interleaved steps per side after {warmup} warm-up; malloc tuned: {TrainingProcess.MallocTuned}; ATen kernels: {TrainingProcess.CpuKernels}; load average {Machine.LoadAverage()}"));
        if (pythonEnvironment.Count > 0)
        {
            Console.WriteLine($"PyTorch environment: {string.Join(' ', pythonEnvironment.Select(e => $"{e.Key}={e.Value}"))}");
        }
        Console.WriteLine($"{"model",-16} {"batch",5} {"input",7} {"Plateau ms",11} {"img/s",8} {"cpu ms",8} {"PyTorch ms",11} {"img/s",8} {"cpu ms",8} {"ratio",6} {"cpu ratio",9}");
        foreach (var c in cases)
        {
            using var ours = new TorchSharpStep(c);
            using var theirs = python is null ? null : PyTorchStep.Start(python, c, threads, pythonEnvironment);
            var (mine, other) = Measure(ours, theirs, steps, warmup);
            var theirsText = other is { } t
                ? $"{t.MedianMs,11:F1} {c.Batch * 1000 / t.MedianMs,8:F1} {t.CpuMs,8:F0} {PairedRatio(mine.WallMs, t.WallMs),6:F2} {mine.CpuMs / t.CpuMs,9:F2}"
                : $"{"n/a",11}";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{c.Model,-16} {c.Batch,5} {c.Size + "x" + c.Size,7} {mine.MedianMs,11:F1} {c.Batch * 1000 / mine.MedianMs,8:F1} {mine.CpuMs,8:F0} {theirsText}"));
        }
        Console.WriteLine("ms: median wall time per step; cpu ms: mean process CPU time per step (all threads).");
        Console.WriteLine("ratio = median over interleaved pairs of Plateau ms / PyTorch ms (target <= 1.05).");
        return 0;
    }

    /// <summary>Per-step wall times and mean CPU time of one side.</summary>
    private sealed record Timings(List<double> WallMs, double CpuMs)
    {
        public double MedianMs => Median(WallMs);
    }

    private static (Timings Ours, Timings? Theirs) Measure(TorchSharpStep ours, PyTorchStep? theirs, int steps, int warmup)
    {
        for (var i = 0; i < warmup; i++)
        {
            ours.Step();
            theirs?.Step();
        }
        var (ourWall, theirWall) = (new List<double>(), new List<double>());
        var (ourCpu, theirCpu) = (0.0, 0.0);
        for (var i = 0; i < steps; i++)
        {
            // ABBA order: neither side always runs right after the other's step.
            var oursFirst = i % 2 == 0;
            (double Ms, double CpuMs)? theirStep = null;
            if (!oursFirst)
            {
                theirStep = theirs?.Step();
            }
            var ourStep = ours.Step();
            if (oursFirst)
            {
                theirStep = theirs?.Step();
            }
            ourWall.Add(ourStep.Ms);
            ourCpu += ourStep.CpuMs;
            if (theirStep is { } t)
            {
                theirWall.Add(t.Ms);
                theirCpu += t.CpuMs;
            }
        }
        return (new Timings(ourWall, ourCpu / steps), theirs is null ? null : new Timings(theirWall, theirCpu / steps));
    }

    /// <summary>The Plateau side: model, optimizer and a fixed random batch.</summary>
    private sealed class TorchSharpStep : IDisposable
    {
        private readonly nn.Module<Tensor, Tensor> _model;
        private readonly optim.Optimizer _optimizer;
        private readonly Tensor _input;
        private readonly Tensor _target;

        public TorchSharpStep(Case c)
        {
            manual_seed(0);
            var classes = ModelRegistry.Describe(c.Model).NumClasses;
            _model = ModelRegistry.Create(c.Model);
            _model.train();
            _optimizer = optim.SGD(_model.parameters(), learningRate: 0.01, momentum: 0.9, weight_decay: 1e-4);
            _input = randn(c.Batch, 3, c.Size, c.Size);
            _target = randint(classes, [c.Batch], dtype: ScalarType.Int64);
        }

        public (double Ms, double CpuMs) Step()
        {
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            // One dispose scope per batch: every handle the step creates is released at its end.
            using (var scope = NewDisposeScope())
            {
                _model.zero_grad(); // set_to_none, as PyTorch's optimizer.zero_grad() does
                using var output = _model.call(_input);
                using var loss = nn.functional.cross_entropy(output, _target);
                loss.backward();
                _optimizer.step();
            }
            watch.Stop();
            return (watch.Elapsed.TotalMilliseconds, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds);
        }

        public void Dispose()
        {
            _optimizer.Dispose();
            _model.Dispose();
            _input.Dispose();
            _target.Dispose();
        }
    }

    /// <summary>The PyTorch side: <c>train_step.py --serve</c>, one step per request line.</summary>
    private sealed class PyTorchStep : IDisposable
    {
        private readonly Process _process;

        private PyTorchStep(Process process) => _process = process;

        public static PyTorchStep? Start(string python, Case c, int threads, IReadOnlyDictionary<string, string> environment)
        {
            var script = Path.Combine(FindRepositoryRoot(), "bench", "python", "train_step.py");
            if (!File.Exists(python) || !File.Exists(script))
            {
                Console.Error.WriteLine($"PyTorch side skipped: {(File.Exists(python) ? script : python)} not found");
                return null;
            }
            var info = new ProcessStartInfo(python)
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            foreach (var a in new[] { script, "--model", c.Model, "--batch", Text(c.Batch), "--size", Text(c.Size),
                "--threads", Text(threads), "--serve" })
            {
                info.ArgumentList.Add(a);
            }
            // The same glibc malloc tuning TrainingProcess applies in-process; PyTorch's own kernel choice
            // unless --python-env says otherwise (our ATEN_CPU_CAPABILITY must not leak into it).
            info.Environment.Remove(TrainingProcess.CpuCapabilityVariable);
            info.Environment["MALLOC_MMAP_THRESHOLD_"] = Text(TrainingProcess.MmapThresholdBytes);
            info.Environment["MALLOC_TRIM_THRESHOLD_"] = Text(TrainingProcess.TrimThresholdBytes);
            info.Environment["MALLOC_TOP_PAD_"] = Text(TrainingProcess.TopPadBytes);
            info.Environment["OMP_NUM_THREADS"] = Text(threads);
            foreach (var (key, value) in environment)
            {
                info.Environment[key] = value;
            }
            var process = Process.Start(info)!;
            var side = new PyTorchStep(process);
            if (side.ReadLine() is null)
            {
                side.Dispose();
                Console.Error.WriteLine($"PyTorch side failed to start (exit {process.ExitCode})");
                return null;
            }
            return side;
        }

        public (double Ms, double CpuMs) Step()
        {
            _process.StandardInput.WriteLine("step");
            _process.StandardInput.Flush();
            var line = ReadLine() ?? throw new InvalidOperationException($"PyTorch side exited ({_process.ExitCode}) mid-run");
            using var result = JsonDocument.Parse(line);
            return (result.RootElement.GetProperty("ms").GetDouble(), result.RootElement.GetProperty("cpu_ms").GetDouble());
        }

        private string? ReadLine()
        {
            var line = _process.StandardOutput.ReadLine();
            if (line is null)
            {
                _process.WaitForExit();
            }
            return line;
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.Close();
                if (!_process.WaitForExit(TimeSpan.FromSeconds(10)))
                {
                    _process.Kill();
                }
            }
            _process.Dispose();
        }
    }

    private static double PairedRatio(List<double> ours, List<double> theirs) =>
        Median([.. ours.Zip(theirs, (a, b) => a / b)]);

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Orleans.sln")))
            {
                return dir.FullName;
            }
        }
        return Directory.GetCurrentDirectory();
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        var n = sorted.Count;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + sorted[n / 2]) / 2;
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

}
