using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using Plateau.Collective;
using Plateau.Models.Runtime;
using Plateau.Models.Zoo;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using Plateau.ServiceDefaults.Telemetry;
using Plateau.Worker.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Plateau.Bench;

/// <summary>
/// <c>plateau-bench step --workers 1|2</c>: images/s of the distributed trainer's step (DataParallelStep:
/// forward, loss, backward, bucketed gradient all-reduce over the gRPC ring, SGD) against the bare
/// TorchSharp loop (forward, loss, backward, optim.SGD) on the same model and per-worker batch. Each rank
/// is its own process (as in <c>plateau local</c>) with the cores divided among them, and alternates a
/// distributed step with a bare step on a second copy of the model, so both see the same machine load
/// (this 2-core machine is shared). Inputs are random tensors so data loading is out of both.
/// Orchestration overhead per step = (rank step − time blocked in the all-reduce) − bare step: packing
/// and unpacking gradient buckets, the pause/stop votes, PyTorch-exact SGD on named buffers.
/// </summary>
public static class DistributedStepBenchmark
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static Command Build()
    {
        var workers = new Option<int>("--workers") { Description = "Rank processes (ring size).", DefaultValueFactory = _ => 1 }.Positive();
        var model = new Option<string>("--model") { Description = "Model (plateau models).", DefaultValueFactory = _ => "se_resnet20_cifar" }.RegisteredModel();
        var batch = new Option<int>("--batch") { Description = "Batch per worker.", DefaultValueFactory = _ => 64 }.Positive();
        var steps = new Option<int>("--steps") { Description = "Timed steps (medians are reported).", DefaultValueFactory = _ => 20 }.Positive();
        var warmup = new Option<int>("--warmup") { Description = "Warm-up steps before timing.", DefaultValueFactory = _ => 3 }.Positive();
        var threads = new Option<int?>("--threads") { Description = "libtorch threads per rank; default: the cores divided among the workers." }.Positive();
        // A rank process: this executable started by the driver, once per rank.
        var rank = new Option<int?>("--rank") { Description = "Run as this rank (started by the benchmark itself).", Hidden = true };
        var peers = new Option<string?>("--peers") { Description = "Every rank's address, comma-separated (with --rank).", Hidden = true };
        var secret = new Option<string?>("--secret") { Description = "The ring's shared secret in hex (with --rank).", Hidden = true };
        var command = new Command("step", "Distributed trainer step (bucketed all-reduce over the ring) vs the bare TorchSharp loop, per rank process.")
        {
            workers, model, batch, steps, warmup, threads, rank, peers, secret,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(rank) is not { } r)
            {
                if (result.GetResult(peers) is not null || result.GetResult(secret) is not null)
                {
                    result.AddError("--peers and --secret are for --rank only");
                }
            }
            else if (result.GetValue(peers) is not { } list || r < 0 || r >= list.Split(',').Length || result.GetValue(secret) is null)
            {
                result.AddError("--rank needs --peers with an address for every rank up to it and --secret");
            }
        });
        command.SetAction(parseResult =>
        {
            var options = new Options(parseResult.GetValue(workers), parseResult.GetValue(model)!, parseResult.GetValue(batch),
                parseResult.GetValue(steps), parseResult.GetValue(warmup), parseResult.GetValue(threads));
            return parseResult.GetValue(rank) is { } r
                ? RunRank(options, r, parseResult.GetValue(peers)!, parseResult.GetValue(secret)!)
                : RunDriver(options);
        });
        return command;
    }

    private static int RunDriver(Options o)
    {
        var threads = o.Threads ?? Math.Max(1, Environment.ProcessorCount / o.Workers);
        TrainingProcess.Initialise(threads);
        var size = ModelRegistry.Describe(o.Model).NativeInputSize;
        Console.WriteLine(string.Create(Invariant,
            $"distributed step vs bare TorchSharp loop: {o.Model} {size}x{size}, batch {o.Batch} per worker, {o.Workers} worker process(es) × {threads} thread(s), median of {o.Steps} after {o.Warmup} warm-up; load average {Machine.LoadAverage()}"));

        var ports = Enumerable.Range(0, o.Workers).Select(_ => Machine.FreePort()).ToArray();
        var peers = string.Join(',', ports.Select(p => $"http://127.0.0.1:{p}"));
        var secret = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        var ranks = Enumerable.Range(0, o.Workers).Select(rank => StartRank(o, rank, threads, peers, secret)).ToList();
        var results = new List<RankResult>();
        foreach (var (process, rank) in ranks.Select((p, r) => (p, r)))
        {
            var stdout = process.StandardOutput.ReadToEnd();
            var stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                Console.Error.WriteLine($"rank {rank} failed ({process.ExitCode}): {stderr.Trim()}");
                return 1;
            }

            results.Add(JsonSerializer.Deserialize<RankResult>(stdout.Trim().Split('\n')[^1])!);
            process.Dispose();
        }

        Console.WriteLine($"{"",-22} {"step ms",8} {"img/s",8} {"compute",8} {"all-red.",8} {"wait",7} {"update",7} {"outside",8} {"overhead",9}");
        foreach (var r in results)
        {
            Console.WriteLine(string.Create(Invariant, $"{$"rank {r.Rank}: bare loop",-22} {r.BareMs,8:F1} {o.Batch * 1000 / r.BareMs,8:F1}"));
            Console.WriteLine(string.Create(Invariant,
                $"{$"rank {r.Rank}: distributed",-22} {r.StepMs,8:F1} {o.Batch * 1000 / r.StepMs,8:F1} {r.ComputeMs,8:F1} {r.AllReduceMs,8:F1} {r.WaitMs,7:F1} {r.UpdateMs,7:F1} {r.OutsideMs,8:F1} {(r.OutsideMs - r.BareMs) / r.BareMs * 100,8:F1}%"));
        }

        foreach (var r in results)
        {
            Console.WriteLine(string.Create(Invariant,
                $"rank {r.Rank}: telemetry (Plateau meter, per step) {r.TelemetryUs:F1} µs = {r.TelemetryUs / 1000 / r.StepMs * 100:F3}% of the step (target ≤ 0.5%)"));
        }

        var total = results.Sum(r => o.Batch * 1000 / r.StepMs);
        var bareTotal = results.Sum(r => o.Batch * 1000 / r.BareMs);
        Console.WriteLine(string.Create(Invariant,
            $"distributed: {total:F1} img/s over {o.Workers} rank(s) = {total / bareTotal * 100:F1}% of the bare loops' {bareTotal:F1} img/s; load average after {Machine.LoadAverage()}"));
        Console.WriteLine("outside = median of (step − wait), wait = time blocked on the ring; overhead = (outside − bare) / bare: orchestration cost per step outside the all-reduce (target ≤ 3%).");
        Console.WriteLine("all-red. = pack + wait + unpack of the gradient buckets (incl. the 2-float vote slot); update = Plateau's SGD.");
        return 0;
    }

    private static int RunRank(Options o, int rank, string peers, string secret)
    {
        TrainingProcess.Initialise(o.Threads ?? 1);
        var addresses = peers.Split(',');
        var port = new Uri(addresses[rank]).Port;
        var server = CollectiveServer.StartAsync(new CollectiveServerOptions { Port = port }).GetAwaiter().GetResult();
        var group = CollectiveGroup.JoinAsync(server, new RingOptions
        {
            JobId = "bench",
            Generation = 1,
            Rank = rank,
            WorldSize = addresses.Length,
            Peers = addresses,
            Secret = Convert.FromHexString(secret),
            ConnectTimeout = TimeSpan.FromSeconds(60),
        }).GetAwaiter().GetResult();
        try
        {
            var size = ModelRegistry.Describe(o.Model).NativeInputSize;
            manual_seed(rank);
            using var model = ModelRegistry.Create(o.Model);
            using var step = new DataParallelStep(model, group, 0.9, 1e-4, nesterov: false);
            StateSync.VerifyLayout(step, CancellationToken.None);
            StateSync.BroadcastFrom(step, root: 0, includeMomentum: true, CancellationToken.None);
            using var input = randn(o.Batch, 3, size, size);
            using var target = randint(ModelRegistry.Describe(o.Model).NumClasses, [o.Batch], dtype: ScalarType.Int64);
            manual_seed(0);
            using var bareModel = ModelRegistry.Create(o.Model);
            bareModel.train();
            using var bareSgd = optim.SGD(bareModel.parameters(), learningRate: 0.01, momentum: 0.9, weight_decay: 1e-4);
            var bare = new List<double>();
            var outside = new List<double>();
            var steps = new List<double>();
            var compute = new List<double>();
            var allReduce = new List<double>();
            var wait = new List<double>();
            var update = new List<double>();
            var telemetryUs = new List<double>();
            // The worker's metrics as a worker process records them: the Plateau meter aggregated for a
            // Prometheus endpoint, one RankTelemetry.Step per step (what the instrumentation costs).
            using var meters = Sdk.CreateMeterProviderBuilder().AddMeter(PlateauMetrics.MeterName)
                .AddPrometheusHttpListener(l => (l.Host, l.Port) = ("127.0.0.1", Machine.FreePort())).Build();
            var telemetry = new RankTelemetry("bench", rank, addresses.Length, step.Buckets.GradientElements * sizeof(float));
            for (var s = 0; s < o.Warmup + o.Steps; s++)
            {
                var watch = Stopwatch.StartNew();
                var outcome = step.Step(input, target, 0.01, StepVotes.None, CancellationToken.None);
                watch.Stop();
                var recording = Stopwatch.GetTimestamp();
                telemetry.Step(outcome, TimeSpan.Zero, s + 1, 0.01, 0, (s + 1) * outcome.Samples);
                var telemetryElapsed = Stopwatch.GetElapsedTime(recording);
                var bareMs = BareStep(bareModel, bareSgd, input, target);
                if (s >= o.Warmup)
                {
                    bare.Add(bareMs);
                    outside.Add(watch.Elapsed.TotalMilliseconds - outcome.CollectiveWait.TotalMilliseconds);
                    steps.Add(watch.Elapsed.TotalMilliseconds);
                    compute.Add(outcome.Compute.TotalMilliseconds);
                    allReduce.Add(outcome.AllReduce.TotalMilliseconds);
                    wait.Add(outcome.CollectiveWait.TotalMilliseconds);
                    update.Add(outcome.Update.TotalMilliseconds);
                    telemetryUs.Add(telemetryElapsed.TotalMicroseconds);
                }
            }

            // Everyone finishes before anyone leaves.
            group.BarrierAsync().GetAwaiter().GetResult();
            Console.WriteLine(JsonSerializer.Serialize(new RankResult(rank, Median(steps), Median(compute), Median(allReduce), Median(wait), Median(update), Median(outside), Median(bare), Median(telemetryUs))));
            return 0;
        }
        finally
        {
            group.DisposeAsync().AsTask().GetAwaiter().GetResult();
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>The bare TorchSharp loop's step: what a single-process training script does.</summary>
    private static double BareStep(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, Tensor input, Tensor target)
    {
        var watch = Stopwatch.StartNew();
        using (NewDisposeScope())
        {
            optimizer.zero_grad();
            using var output = model.call(input);
            using var loss = nn.functional.cross_entropy(output, target);
            loss.backward();
            optimizer.step();
        }

        watch.Stop();
        return watch.Elapsed.TotalMilliseconds;
    }

    private static Process StartRank(Options o, int rank, int threads, string peers, string secret)
    {
        var self = Environment.ProcessPath!;
        var info = new ProcessStartInfo(self) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            info.ArgumentList.Add(typeof(DistributedStepBenchmark).Assembly.Location);
        }

        foreach (var a in new[]
        {
            "step", "--rank", Text(rank), "--peers", peers, "--secret", secret, "--threads", Text(threads), "--model", o.Model,
            "--batch", Text(o.Batch), "--steps", Text(o.Steps), "--warmup", Text(o.Warmup), "--workers", Text(o.Workers),
        })
        {
            info.ArgumentList.Add(a);
        }

        return Process.Start(info)!;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        var n = values.Count;
        return n % 2 == 1 ? values[n / 2] : (values[(n / 2) - 1] + values[n / 2]) / 2;
    }


    private static string Text(int value) => value.ToString(Invariant);


    private sealed record RankResult(int Rank, double StepMs, double ComputeMs, double AllReduceMs, double WaitMs, double UpdateMs, double OutsideMs, double BareMs, double TelemetryUs);

    /// <summary>What the driver measures; each rank gets the same on its command line.</summary>
    private sealed record Options(int Workers, string Model, int Batch, int Steps, int Warmup, int? Threads);
}
