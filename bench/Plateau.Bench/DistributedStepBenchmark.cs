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
/// With <c>--overlap both</c> (the default) each rank also trains a third copy with the all-reduce overlapped with
/// backward (<see cref="BackwardProbes"/>), alternating with the plain step, and reports the exposed communication
/// (from the end of backward until every bucket is reduced) of both side by side, their ratio, and whether the two
/// copies ended bit-identical (weights, BN statistics, momentum).
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
        var size = new Option<int?>("--size") { Description = "Input side in pixels; default: the model's native size (224 for ImageNet models). The gradients keep the model's size." }.Positive();
        var overlap = new Option<string>("--overlap") { Description = "Gradient all-reduce overlapped with backward: both (side by side, with the ratio), on, off.", DefaultValueFactory = _ => "both" };
        overlap.AcceptOnlyFromAmong("both", "on", "off");
        // A rank process: this executable started by the driver, once per rank.
        var rank = new Option<int?>("--rank") { Description = "Run as this rank (started by the benchmark itself).", Hidden = true };
        var peers = new Option<string?>("--peers") { Description = "Every rank's address, comma-separated (with --rank).", Hidden = true };
        var secret = new Option<string?>("--secret") { Description = "The ring's shared secret in hex (with --rank).", Hidden = true };
        var command = new Command("step", "Distributed trainer step (bucketed all-reduce over the ring) vs the bare TorchSharp loop, per rank process.")
        {
            workers, model, batch, steps, warmup, threads, size, overlap, rank, peers, secret,
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
                parseResult.GetValue(steps), parseResult.GetValue(warmup), parseResult.GetValue(threads), parseResult.GetValue(size), parseResult.GetValue(overlap)!);
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
        var size = o.Size ?? ModelRegistry.Describe(o.Model).NativeInputSize;
        Console.WriteLine(string.Create(Invariant,
            $"distributed step vs bare TorchSharp loop: {o.Model} {size}x{size}, batch {o.Batch} per worker, {o.Workers} worker process(es) × {threads} thread(s), overlap {o.Overlap}, median of {o.Steps} after {o.Warmup} warm-up; load average {Machine.LoadAverage()}"));

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

        Console.WriteLine($"{"",-30} {"step ms",8} {"img/s",8} {"compute",8} {"all-red.",8} {"wait",7} {"exposed",8} {"early",6} {"update",7} {"outside",8} {"overhead",9}");
        foreach (var r in results)
        {
            Console.WriteLine(string.Create(Invariant, $"{$"rank {r.Rank}: bare loop",-30} {r.BareMs,8:F1} {o.Batch * 1000 / r.BareMs,8:F1}"));
            foreach (var m in r.Modes)
            {
                Console.WriteLine(string.Create(Invariant,
                    $"{$"rank {r.Rank}: distributed{(m.Overlap ? ", overlapped" : "")}",-30} {m.StepMs,8:F1} {o.Batch * 1000 / m.StepMs,8:F1} {m.ComputeMs,8:F1} {m.AllReduceMs,8:F1} {m.WaitMs,7:F1} {m.ExposedMs,8:F1} {m.EarlyBuckets,6} {m.UpdateMs,7:F1} {m.OutsideMs,8:F1} {(m.OutsideMs - r.BareMs) / r.BareMs * 100,8:F1}%"));
            }
        }

        if (o.Overlap == "both")
        {
            foreach (var r in results)
            {
                var plain = r.Modes.Single(m => !m.Overlap);
                var overlapped = r.Modes.Single(m => m.Overlap);
                Console.WriteLine(string.Create(Invariant,
                    $"rank {r.Rank}: exposed communication {plain.ExposedMs:F1} ms without overlap, {overlapped.ExposedMs:F1} ms with: ratio {overlapped.ExposedMs / plain.ExposedMs:F2} (target ≤ 0.50); step {plain.StepMs:F1} → {overlapped.StepMs:F1} ms; {overlapped.EarlyBuckets} of {r.Buckets} buckets launched during backward"));
            }

            var identical = results.All(r => r.Identical == true);
            Console.WriteLine($"overlapped and plain copies after {o.Warmup + o.Steps} steps: {(identical ? "bit-identical on every rank (weights, BN statistics, momentum)" : "DIFFERENT")}");
        }

        foreach (var r in results)
        {
            Console.WriteLine(string.Create(Invariant,
                $"rank {r.Rank}: telemetry (Plateau meter, per step) {r.TelemetryUs:F1} µs = {r.TelemetryUs / 1000 / r.Modes[0].StepMs * 100:F3}% of the step (target ≤ 0.5%)"));
        }

        var total = results.Sum(r => o.Batch * 1000 / r.Modes[0].StepMs);
        var bareTotal = results.Sum(r => o.Batch * 1000 / r.BareMs);
        Console.WriteLine(string.Create(Invariant,
            $"distributed{(results[0].Modes[0].Overlap ? " (overlapped)" : "")}: {total:F1} img/s over {o.Workers} rank(s) = {total / bareTotal * 100:F1}% of the bare loops' {bareTotal:F1} img/s; load average after {Machine.LoadAverage()}"));
        Console.WriteLine("outside = median of (step − wait), wait = time blocked on the ring; overhead = (outside − bare) / bare: orchestration cost per step outside the all-reduce (target ≤ 3%).");
        Console.WriteLine("all-red. = pack + wait + unpack of the gradient buckets (incl. the 2-float vote slot); update = Plateau's SGD.");
        Console.WriteLine("exposed = from the end of backward until every bucket is reduced (packing what backward left + wait); early = buckets launched while backward ran (last step).");
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
            var size = o.Size ?? ModelRegistry.Describe(o.Model).NativeInputSize;
            bool[] modes = o.Overlap switch { "on" => [true], "off" => [false], _ => [false, true] };
            var copies = new List<(bool Overlap, nn.Module<Tensor, Tensor> Model, DataParallelStep Step, Samples Samples)>();
            foreach (var mode in modes)
            {
                manual_seed(rank);
                var copy = ModelRegistry.Create(o.Model);
                var copyStep = new DataParallelStep(copy, group, 0.9, 1e-4, nesterov: false, overlapReduction: mode);
                StateSync.VerifyLayout(copyStep, CancellationToken.None);
                StateSync.BroadcastFrom(copyStep, root: 0, includeMomentum: true, CancellationToken.None);
                copies.Add((mode, copy, copyStep, new Samples()));
            }

            using var input = randn(o.Batch, 3, size, size);
            using var target = randint(ModelRegistry.Describe(o.Model).NumClasses, [o.Batch], dtype: ScalarType.Int64);
            manual_seed(0);
            using var bareModel = ModelRegistry.Create(o.Model);
            bareModel.train();
            using var bareSgd = optim.SGD(bareModel.parameters(), learningRate: 0.01, momentum: 0.9, weight_decay: 1e-4);
            var bare = new List<double>();
            var telemetryUs = new List<double>();
            // The worker's metrics as a worker process records them: the Plateau meter aggregated for a
            // Prometheus endpoint, one RankTelemetry.Step per step (what the instrumentation costs).
            using var meters = Sdk.CreateMeterProviderBuilder().AddMeter(PlateauMetrics.MeterName)
                .AddPrometheusHttpListener(l => (l.Host, l.Port) = ("127.0.0.1", Machine.FreePort())).Build();
            var telemetry = new RankTelemetry("bench", rank, addresses.Length, copies[0].Step.Buckets.GradientElements * sizeof(float));
            for (var s = 0; s < o.Warmup + o.Steps; s++)
            {
                // Alternate which copy goes first, so neither always follows the bare step.
                for (var k = 0; k < copies.Count; k++)
                {
                    var (_, _, step, samples) = copies[(k + s) % copies.Count];
                    var watch = Stopwatch.StartNew();
                    var outcome = step.Step(input, target, 0.01, StepVotes.None, CancellationToken.None);
                    watch.Stop();
                    var recording = Stopwatch.GetTimestamp();
                    telemetry.Step(outcome, TimeSpan.Zero, s + 1, 0.01, 0, (s + 1) * outcome.Samples);
                    var telemetryElapsed = Stopwatch.GetElapsedTime(recording);
                    if (s >= o.Warmup)
                    {
                        samples.Add(watch.Elapsed, outcome);
                        telemetryUs.Add(telemetryElapsed.TotalMicroseconds);
                    }
                }

                var bareMs = BareStep(bareModel, bareSgd, input, target);
                if (s >= o.Warmup)
                {
                    bare.Add(bareMs);
                }
            }

            bool? identical = copies.Count == 2 ? Fingerprint(copies[0]) == Fingerprint(copies[1]) : null;
            var results = copies.Select(c => c.Samples.Result(c.Overlap)).ToArray();
            var buckets = copies[0].Step.Buckets.Buckets.Count;
            foreach (var c in copies)
            {
                c.Step.Dispose();
                c.Model.Dispose();
            }

            // Everyone finishes before anyone leaves.
            group.BarrierAsync().GetAwaiter().GetResult();
            Console.WriteLine(JsonSerializer.Serialize(new RankResult(rank, results, Median(bare), Median(telemetryUs), buckets, identical)));
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

        string[] arguments =
        [
            "step", "--rank", Text(rank), "--peers", peers, "--secret", secret, "--threads", Text(threads), "--model", o.Model,
            "--batch", Text(o.Batch), "--steps", Text(o.Steps), "--warmup", Text(o.Warmup), "--workers", Text(o.Workers),
            "--overlap", o.Overlap, .. o.Size is { } side ? ["--size", Text(side)] : Array.Empty<string>(),
        ];
        foreach (var a in arguments)
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


    /// <summary>SHA-256 over a copy's weights, BN statistics and momentum, in state_dict order.</summary>
    private static string Fingerprint((bool Overlap, nn.Module<Tensor, Tensor> Model, DataParallelStep Step, Samples Samples) copy)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (_, tensor) in copy.Model.state_dict().Concat(copy.Step.Optimizer.MomentumBuffers()))
        {
            using var flat = tensor.detach().contiguous().flatten();
            hash.AppendData(flat.dtype == ScalarType.Int64
                ? System.Runtime.InteropServices.MemoryMarshal.AsBytes(flat.data<long>().ToArray().AsSpan())
                : System.Runtime.InteropServices.MemoryMarshal.AsBytes(flat.data<float>().ToArray().AsSpan()));
        }

        return Convert.ToHexString(hash.GetHashAndReset());
    }

    /// <summary>One copy's per-step figures.</summary>
    private sealed class Samples
    {
        private readonly List<double> _steps = [];
        private readonly List<double> _compute = [];
        private readonly List<double> _allReduce = [];
        private readonly List<double> _wait = [];
        private readonly List<double> _exposed = [];
        private readonly List<double> _update = [];
        private readonly List<double> _outside = [];
        private int _early;

        public void Add(TimeSpan step, StepOutcome outcome)
        {
            _steps.Add(step.TotalMilliseconds);
            _compute.Add(outcome.Compute.TotalMilliseconds);
            _allReduce.Add(outcome.AllReduce.TotalMilliseconds);
            _wait.Add(outcome.CollectiveWait.TotalMilliseconds);
            _exposed.Add(outcome.ExposedCommunication.TotalMilliseconds);
            _update.Add(outcome.Update.TotalMilliseconds);
            _outside.Add(step.TotalMilliseconds - outcome.CollectiveWait.TotalMilliseconds);
            _early = outcome.BucketsLaunchedDuringBackward;
        }

        public ModeResult Result(bool overlap) => new(overlap, Median(_steps), Median(_compute), Median(_allReduce), Median(_wait), Median(_exposed), Median(_update), Median(_outside), _early);
    }

    private sealed record ModeResult(bool Overlap, double StepMs, double ComputeMs, double AllReduceMs, double WaitMs, double ExposedMs, double UpdateMs, double OutsideMs, int EarlyBuckets);

    private sealed record RankResult(int Rank, ModeResult[] Modes, double BareMs, double TelemetryUs, int Buckets, bool? Identical);

    /// <summary>What the driver measures; each rank gets the same on its command line.</summary>
    private sealed record Options(int Workers, string Model, int Batch, int Steps, int Warmup, int? Threads, int? Size, string Overlap);
}
