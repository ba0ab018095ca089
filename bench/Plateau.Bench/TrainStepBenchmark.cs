using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Plateau.Models.Runtime;
using Plateau.Models.Zoo;
using TorchSharp;
using static TorchSharp.torch;

namespace Plateau.Bench;

/// <summary>
/// <c>plateau-bench train</c>: one CPU training step (SGD momentum 0.9, weight decay 1e-4, cross-entropy)
/// for resnet20_cifar at batch 128, 32x32 and se_resnet50 at batch 8, 224x224; median of 15 steps after
/// warm-up, beside the same step in PyTorch (bench/python/train_step.py) when /usr/bin/python3 has torch.
/// </summary>
public static class TrainStepBenchmark
{
    private sealed record Case(string Model, int Batch, int Size);

    private static readonly Case[] DefaultCases = [new("resnet20_cifar", 128, 32), new("se_resnet50", 8, 224)];

    private const string Usage =
        "usage: plateau-bench train [--model NAME --batch N --size N] [--threads 2] [--steps 15] [--warmup 3] [--no-python] [--python PATH]";

    public static int Run(string[] args)
    {
        try
        {
            return RunChecked(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"plateau-bench train: {e.Message}");
            return 2;
        }
    }

    private static int RunChecked(string[] args)
    {
        int threads = 2, steps = 15, warmup = 3;
        string? model = null;
        int? batch = null, size = null;
        var python = "/usr/bin/python3";
        var withPython = true;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.\n{Usage}");
            switch (args[i])
            {
                case "--threads": threads = ParsePositive("--threads", Next()); break;
                case "--steps": steps = ParsePositive("--steps", Next()); break;
                case "--warmup": warmup = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--model": model = Next(); break;
                case "--batch": batch = ParsePositive("--batch", Next()); break;
                case "--size": size = ParsePositive("--size", Next()); break;
                case "--python": python = Next(); break;
                case "--no-python": withPython = false; break;
                case "-h" or "--help": Console.WriteLine(Usage); return 0;
                default: Console.Error.WriteLine($"unknown option {args[i]}\n{Usage}"); return 2;
            }
        }
        Case[] cases = model is null ? DefaultCases : [new(model, batch ?? 8, size ?? ModelRegistry.Describe(model).NativeInputSize)];

        TrainingProcess.Initialise(threads);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"CPU training step, {threads} threads, median of {steps} after {warmup} warm-up; malloc tuned: {TrainingProcess.MallocTuned}; load average {LoadAverage()}"));
        Console.WriteLine($"{"model",-16} {"batch",5} {"input",7} {"Plateau ms",11} {"img/s",8} {"cpu ms",8} {"PyTorch ms",11} {"img/s",8} {"cpu ms",8} {"ratio",6} {"cpu ratio",9}");
        foreach (var c in cases)
        {
            var ours = Measure(c, steps, warmup);
            var theirs = withPython ? MeasurePyTorch(python, c, threads, steps, warmup) : null;
            var theirsText = theirs is { } t
                ? $"{t.MedianMs,11:F1} {c.Batch * 1000 / t.MedianMs,8:F1} {t.CpuMsPerStep,8:F0} {ours.MedianMs / t.MedianMs,6:F2} {ours.CpuMsPerStep / t.CpuMsPerStep,9:F2}"
                : $"{"n/a",11}";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{c.Model,-16} {c.Batch,5} {c.Size + "x" + c.Size,7} {ours.MedianMs,11:F1} {c.Batch * 1000 / ours.MedianMs,8:F1} {ours.CpuMsPerStep,8:F0} {theirsText}"));
        }
        Console.WriteLine("ms: median wall time per step; cpu ms: process CPU time per step (all threads; steadier than wall time on a loaded machine).");
        Console.WriteLine("ratio = Plateau / PyTorch (target <= 1.05).");
        return 0;
    }

    private readonly record struct Timing(double MedianMs, double CpuMsPerStep);

    private static Timing Measure(Case c, int steps, int warmup)
    {
        manual_seed(0);
        var classes = ModelRegistry.Describe(c.Model).NumClasses;
        using var model = ModelRegistry.Create(c.Model);
        model.train();
        using var optimizer = optim.SGD(model.parameters(), learningRate: 0.01, momentum: 0.9, weight_decay: 1e-4);
        using var input = randn(c.Batch, 3, c.Size, c.Size);
        using var target = randint(classes, [c.Batch], dtype: ScalarType.Int64);
        var times = new List<double>();
        var cpuAtStart = TimeSpan.Zero;
        for (var step = 0; step < warmup + steps; step++)
        {
            if (step == warmup)
            {
                cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
            }
            var watch = Stopwatch.StartNew();
            // One dispose scope per batch: every handle the step creates is released at its end.
            using (var scope = NewDisposeScope())
            {
                optimizer.zero_grad();
                using var output = model.call(input);
                using var loss = nn.functional.cross_entropy(output, target);
                loss.backward();
                optimizer.step();
            }
            watch.Stop();
            if (step >= warmup)
            {
                times.Add(watch.Elapsed.TotalMilliseconds);
            }
        }
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuAtStart;
        return new Timing(Median(times), cpu.TotalMilliseconds / steps);
    }

    private static Timing? MeasurePyTorch(string python, Case c, int threads, int steps, int warmup)
    {
        var script = Path.Combine(FindRepositoryRoot(), "bench", "python", "train_step.py");
        if (!File.Exists(python) || !File.Exists(script))
        {
            return null;
        }
        var info = new ProcessStartInfo(python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { script, "--model", c.Model, "--batch", Text(c.Batch), "--size", Text(c.Size),
            "--threads", Text(threads), "--steps", Text(steps), "--warmup", Text(warmup) })
        {
            info.ArgumentList.Add(a);
        }
        // The same glibc malloc tuning TrainingProcess applies in-process.
        info.Environment["MALLOC_MMAP_THRESHOLD_"] = Text(TrainingProcess.MmapThresholdBytes);
        info.Environment["MALLOC_TRIM_THRESHOLD_"] = Text(TrainingProcess.TrimThresholdBytes);
        info.Environment["MALLOC_TOP_PAD_"] = Text(TrainingProcess.TopPadBytes);
        info.Environment["OMP_NUM_THREADS"] = Text(threads);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEnd();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            Console.Error.WriteLine($"PyTorch side failed ({process.ExitCode}): {stderr.Trim()}");
            return null;
        }
        using var result = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        return new Timing(result.RootElement.GetProperty("median_ms").GetDouble(), result.RootElement.GetProperty("cpu_ms_per_step").GetDouble());
    }

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
        values.Sort();
        var n = values.Count;
        return n % 2 == 1 ? values[n / 2] : (values[(n / 2) - 1] + values[n / 2]) / 2;
    }

    private static int ParsePositive(string option, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new ArgumentException($"{option} must be a positive integer, got '{value}'.");

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
