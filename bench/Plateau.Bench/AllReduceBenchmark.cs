using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using Plateau.Collective;
using Plateau.Contracts.Errors;

namespace Plateau.Bench;

/// <summary>
/// <c>plateau-bench allreduce --workers N --sizes 1MiB,16MiB,100MiB</c>: ring all-reduce between N
/// separate processes on loopback (this executable re-launched per rank), against torch.distributed
/// Gloo (bench/python/allreduce_gloo.py) and single-stream loopback TCP (iperf3) in the same run.
/// Prints an nccl-tests-style table: busbw = 2(N-1)/N · bytes / time. With <c>--link 2Gbit</c> every rank (Plateau's,
/// Gloo's and iperf3's) runs as if on its own host: its own network namespace with a link shaped to that rate
/// (<see cref="EmulatedHosts"/>), so the link bounds the transfer instead of the CPU.
/// </summary>
public static class AllReduceBenchmark
{
    private const string SecretVariable = "PLATEAU_BENCH_SECRET";

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>What one run measures; a rank process gets the same through its hidden options.</summary>
    private sealed record Settings(int[] Workers, long[] Sizes, int Iters, int Warmup, int Streams, ByteSize Chunk, WireCompression Compression,
        DataTransport[] Transports, bool[] SharedMemory, bool NoBaselines, long? LinkBitsPerSecond);

    public static Command Build()
    {
        var workers = new Option<int[]>("--workers")
        {
            Description = "Ring sizes to measure, comma-separated (N processes each).",
            HelpName = "N[,M]",
            DefaultValueFactory = _ => [2],
            CustomParser = result => BenchmarkOptions.ParseList(result, text => BenchmarkOptions.ParsePositive(result, "--workers", text)),
        };
        var sizes = new Option<ByteSize[]>("--sizes")
        {
            Description = "All-reduce payloads, comma-separated (1MiB, 512KiB, 1.5GiB or bytes).",
            HelpName = "SIZE[,SIZE]",
            DefaultValueFactory = _ => [new(1L << 20), new(16L << 20), new(100L << 20)],
            CustomParser = result => BenchmarkOptions.ParseList(result, text => BenchmarkOptions.ParseSize(result, "--sizes", text)),
        };
        var iters = new Option<int>("--iters") { Description = "Timed all-reduces per size (after the warm-up ones).", DefaultValueFactory = _ => 10 }.Positive();
        // The rank processes JIT-compile their hot loops in tiers while they run: with 2 warm-ups the timed
        // all-reduces still paid for instrumented code and recompilation (20-40% more CPU per operation than
        // with tiering off). Gloo, compiled ahead, gets the same warm-up.
        var warmup = new Option<int>("--warmup") { Description = "Untimed all-reduces per size first, for Plateau and Gloo alike.", DefaultValueFactory = _ => 10 }.Positive();
        var streams = new Option<int>("--streams") { Description = "Data streams per peer.", DefaultValueFactory = _ => RingOptions.DefaultStreamsPerPeer }.Positive();
        var chunk = new Option<ByteSize>("--chunk")
        {
            Description = "Ring chunk size (4KiB to 8MiB).",
            HelpName = "SIZE",
            DefaultValueFactory = _ => new(RingOptions.DefaultChunkBytes),
            CustomParser = result =>
            {
                var text = result.Tokens[^1].Value;
                var bytes = BenchmarkOptions.ParseSize(result, "--chunk", text);
                if (bytes.Bytes is not 0 and (< RingOptions.MinChunkBytes or > RingOptions.MaxChunkBytes))
                {
                    result.AddError($"--chunk must be between 4KiB and 8MiB, got {Quote.Value(text)}");
                }
                return bytes;
            },
        };
        var compression = new Option<WireCompression>("--compression") { Description = "Wire compression of the payload.", DefaultValueFactory = _ => WireCompression.None };
        var transport = new Option<DataTransport[]>("--transport")
        {
            Description = "Data transports to measure, comma-separated: Grpc, Socket.",
            HelpName = "Grpc,Socket",
            DefaultValueFactory = _ => [RingOptions.DefaultTransport],
            CustomParser = result => BenchmarkOptions.ParseList(result, text =>
            {
                if (Enum.TryParse<DataTransport>(text, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed))
                {
                    return parsed;
                }
                result.AddError($"--transport must list Grpc and/or Socket, got {Quote.Value(text)}");
                return default;
            }),
        };
        var sharedMemory = new Option<string[]>("--shared-memory")
        {
            Description = "With the Socket transport, payloads through shared memory (on) or on TCP (off); comma-separated to measure both.",
            HelpName = "on,off",
            DefaultValueFactory = _ => ["on"],
            CustomParser = result => BenchmarkOptions.ParseList(result, text =>
            {
                if (text is not ("on" or "off"))
                {
                    result.AddError($"--shared-memory must list on and/or off, got {Quote.Value(text)}");
                }
                return text;
            }),
        };
        var noBaselines = new Option<bool>("--no-baselines") { Description = "Skip the Gloo and iperf3 baselines." };
        var link = new Option<long?>("--link")
        {
            Description = "Run every rank as if on its own host: its own network namespace, linked through a bridge at this rate each way; payloads on TCP (needs root).",
            HelpName = "RATE, e.g. 2Gbit",
            CustomParser = result => BenchmarkOptions.ParseBitRate(result, "--link", result.Tokens[^1].Value),
        };
        // A rank process: this executable started by the parent, once per rank.
        var child = new Option<bool>("--child") { Description = "Run as one rank (started by the benchmark itself).", Hidden = true };
        var rank = new Option<int>("--rank") { Description = "This rank (with --child).", Hidden = true };
        var rendezvous = new Option<string?>("--rendezvous") { Description = "Folder where ranks publish their addresses (with --child).", Hidden = true };
        var listen = new Option<string>("--listen") { Description = "Address this rank listens on (with --child).", Hidden = true, DefaultValueFactory = _ => "127.0.0.1" };
        var command = new Command("allreduce", "Ring all-reduce between processes (on loopback, or emulated hosts with --link) vs Gloo and iperf3 (nccl-tests-style busbw table).")
        {
            workers, sizes, iters, warmup, streams, chunk, compression, transport, sharedMemory, noBaselines, link, child, rank, rendezvous, listen,
        };
        command.Validators.Add(result =>
        {
            if (!result.GetValue(child))
            {
                if (result.GetResult(rank) is not null || result.GetResult(rendezvous) is not null || result.GetResult(listen) is not null)
                {
                    result.AddError("--rank, --rendezvous and --listen are for --child only");
                }
                if (result.GetResult(link) is not null && EmulatedHosts.Unavailable() is { } why)
                {
                    result.AddError(why);
                }
                if (result.GetResult(link) is not null && result.GetResult(sharedMemory) is { Implicit: false } && result.GetValue(sharedMemory)!.Contains("on"))
                {
                    result.AddError("--link puts every rank on its own emulated host, and separate hosts share no memory: leave out --shared-memory or give --shared-memory off");
                }
            }
            else if (result.GetValue(rendezvous) is null || result.GetValue(workers) is not [var world] || result.GetValue(rank) is var r && (r < 0 || r >= world)
                || result.GetValue(transport) is not { Length: 1 } || result.GetValue(sharedMemory) is not { Length: 1 })
            {
                result.AddError("--child needs --rendezvous, one --workers count N, a --rank below N, one --transport and one --shared-memory mode");
            }
        });
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var settings = new Settings(parseResult.GetValue(workers)!, [.. parseResult.GetValue(sizes)!.Select(s => s.Bytes)], parseResult.GetValue(iters), parseResult.GetValue(warmup),
                parseResult.GetValue(streams), parseResult.GetValue(chunk), parseResult.GetValue(compression),
                parseResult.GetValue(transport)!, parseResult.GetValue(link) is null ? [.. parseResult.GetValue(sharedMemory)!.Select(mode => mode == "on")] : [false], parseResult.GetValue(noBaselines),
                parseResult.GetValue(link));
            return parseResult.GetValue(child)
                ? await RunRankAsync(settings, parseResult.GetValue(rank), parseResult.GetValue(rendezvous)!, parseResult.GetValue(listen)!)
                : await RunParentAsync(settings);
        });
        return command;
    }

    private static async Task<int> RunParentAsync(Settings options)
    {
        var (sizes, iters) = (options.Sizes, options.Iters);
        Console.WriteLine($"# plateau-bench allreduce: {Environment.ProcessorCount} cores, load average {Machine.LoadAverage()}, {iters} iterations per size after {options.Warmup} warm-up; rank processes JIT without tiering (steady-state code)");
        using var hosts = options.LinkBitsPerSecond is { } rate ? EmulatedHosts.Create(options.Workers.Max(), rate) : null;
        if (hosts is not null)
        {
            Console.WriteLine($"# ranks as separate hosts: {hosts.Describe()}");
        }

        double? iperf = options.NoBaselines ? null
            : hosts is null ? await Machine.MeasureIperfAsync()
            : await Machine.MeasureIperfAsync(EmulatedHosts.Address(0), server => EmulatedHosts.Inside(0, server), client => EmulatedHosts.Inside(1, client));
        if (iperf is { } bps)
        {
            Console.WriteLine($"# iperf3 single-stream {(hosts is null ? "loopback" : "rank 1 -> rank 0")} TCP: {bps / 8 / 1e9:0.00} GB/s ({bps / 1e9:0.0} Gbit/s)");
        }
        foreach (var workers in options.Workers)
        {
            var runs = new List<(DataTransport Transport, bool SharedMemory, string Load, Dictionary<long, Timing> Timings)>();
            foreach (var transport in options.Transports)
            {
                foreach (var sharedMemory in options.SharedMemory)
                {
                    var load = Machine.LoadAverage();
                    runs.Add((transport, sharedMemory, load, await RunRanksAsync(workers, options, transport, sharedMemory, hosts is not null)));
                }
            }
            var gloo = options.NoBaselines ? null : await RunGlooAsync(workers, sizes, iters, options.Warmup, hosts is not null);
            foreach (var (transport, sharedMemory, load, plateau) in runs)
            {
                Console.WriteLine();
                Console.WriteLine($"# N = {workers} processes, ring, data over {transport}{(transport == DataTransport.Socket ? sharedMemory ? " + shared memory" : " (payloads on TCP)" : "")} ({options.Streams.ToString(Invariant)} stream(s)/peer, chunk {options.Chunk}, {options.Compression}); load average {load}");
                Console.WriteLine($"{"size",10} {"count",12} {"plateau us",12} {"algbw GB/s",11} {"busbw GB/s",11} {"gloo us",10} {"gloo busbw",11} {"vs gloo",8} {"vs iperf3",9} {"cpu ms",8} {"gloo cpu ms",11} {"cpu vs gloo",11}");
                foreach (var size in sizes)
                {
                    var (seconds, cpuSeconds) = plateau[size];
                    var algbw = size / seconds / 1e9;
                    var busbw = algbw * 2 * (workers - 1) / workers;
                    var glooTiming = gloo?.GetValueOrDefault(size);
                    var glooSeconds = glooTiming?.Seconds;
                    var glooBusbw = glooSeconds is > 0 ? size / glooSeconds.Value / 1e9 * 2 * (workers - 1) / workers : double.NaN;
                    var vsIperf = iperf is { } i ? busbw / (i / 8 / 1e9) : double.NaN;
                    var glooCpu = glooTiming?.CpuSeconds ?? double.NaN;
                    Console.WriteLine($"{new ByteSize(size),10} {size / 4,12} {seconds * 1e6,12:0} {algbw,11:0.000} {busbw,11:0.000} {glooSeconds * 1e6,10:0} {glooBusbw,11:0.000} {busbw / glooBusbw,7:0.00}x {vsIperf,8:0%} {cpuSeconds * 1e3,8:0.0} {glooCpu * 1e3,11:0.0} {glooCpu / cpuSeconds,10:0.00}x");
                }
            }
        }
        return 0;
    }

    private static async Task<Dictionary<long, Timing>> RunRanksAsync(int workers, Settings options, DataTransport transport, bool sharedMemory, bool separateHosts)
    {
        var rendezvous = Directory.CreateTempSubdirectory("plateau-allreduce-");
        var secret = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        var processes = new List<Process>();
        try
        {
            for (var rank = 0; rank < workers; rank++)
            {
                var start = SelfStartInfo();
                foreach (var arg in new[] { "allreduce", "--child", "--rank", rank.ToString(Invariant), "--workers", workers.ToString(Invariant),
                    "--sizes", string.Join(',', options.Sizes), "--iters", options.Iters.ToString(Invariant), "--warmup", options.Warmup.ToString(Invariant), "--rendezvous", rendezvous.FullName,
                    "--streams", options.Streams.ToString(Invariant), "--chunk", options.Chunk.Bytes.ToString(Invariant), "--compression", options.Compression.ToString(),
                    "--transport", transport.ToString(), "--shared-memory", sharedMemory ? "on" : "off",
                    "--listen", separateHosts ? EmulatedHosts.Address(rank) : "127.0.0.1" })
                {
                    start.ArgumentList.Add(arg);
                }
                start.Environment[SecretVariable] = secret;
                // Steady-state code from the first call: with tiered compilation the rank processes spent the timed
                // all-reduces partly in instrumented code and recompiling (the JIT's background thread competes for
                // the same cores), 20-40% more CPU per operation even after 10 warm-ups on a loaded 2-core machine,
                // where a long-running worker would long since run optimised code.
                start.Environment["DOTNET_TieredCompilation"] = "0";
                start.RedirectStandardOutput = true;
                processes.Add(Process.Start(separateHosts ? EmulatedHosts.Inside(rank, start) : start)!);
            }
            var output = await processes[0].StandardOutput.ReadToEndAsync();
            foreach (var p in processes)
            {
                await p.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(10));
                if (p.ExitCode != 0)
                {
                    throw new InvalidOperationException($"an all-reduce rank exited with code {p.ExitCode}");
                }
            }
            return Timing.ParseLines(output);
        }
        finally
        {
            StopAll(processes);
            rendezvous.Delete(recursive: true);
        }
    }

    private static async Task<int> RunRankAsync(Settings options, int rank, string rendezvous, string listen)
    {
        var workers = options.Workers[0];
        var (sizes, iters) = (options.Sizes, options.Iters);
        await using var server = await CollectiveServer.StartAsync(new CollectiveServerOptions { ListenHost = listen });
        var mine = Path.Combine(rendezvous, $"{rank}.addr");
        await File.WriteAllTextAsync(mine + ".tmp", server.Address);
        File.Move(mine + ".tmp", mine);
        var peers = new string[workers];
        for (var r = 0; r < workers; r++)
        {
            var path = Path.Combine(rendezvous, $"{r}.addr");
            while (!File.Exists(path))
            {
                await Task.Delay(20);
            }
            peers[r] = await File.ReadAllTextAsync(path);
        }
        await using var group = await CollectiveGroup.JoinAsync(server, new RingOptions
        {
            JobId = "bench",
            Generation = 1,
            Rank = rank,
            WorldSize = workers,
            Peers = peers,
            Secret = Convert.FromHexString(Environment.GetEnvironmentVariable(SecretVariable)!),
            StreamsPerPeer = options.Streams,
            ChunkBytes = (int)options.Chunk.Bytes,
            Compression = options.Compression,
            Transport = options.Transports[0],
            SharedMemory = options.SharedMemory[0],
        });
        foreach (var size in sizes)
        {
            var buffer = GC.AllocateUninitializedArray<float>((int)(size / sizeof(float)), pinned: true);
            buffer.AsSpan().Fill(1f);
            for (var i = 0; i < options.Warmup; i++)
            {
                await group.AllReduceAsync(buffer);
            }
            await group.BarrierAsync();
            var watch = Stopwatch.StartNew();
            var cpuStart = Environment.CpuUsage.TotalTime;
            for (var i = 0; i < iters; i++)
            {
                await group.AllReduceAsync(buffer);
            }
            var seconds = watch.Elapsed.TotalSeconds / iters;
            var cpuSeconds = (Environment.CpuUsage.TotalTime - cpuStart).TotalSeconds / iters;
            var all = await group.AllGatherAsync(new[] { (float)seconds, (float)cpuSeconds }.AsMemory());
            if (rank == 0)
            {
                Console.WriteLine(JsonSerializer.Serialize(new { bytes = size, seconds = all.Max(a => a[0]), cpu_seconds = all.Sum(a => a[1]) }));
            }
        }
        await group.BarrierAsync();
        return 0;
    }

    private static async Task<Dictionary<long, Timing>?> RunGlooAsync(int workers, long[] sizes, int iters, int warmup, bool separateHosts)
    {
        var script = FindUp(Path.Combine("bench", "python", "allreduce_gloo.py"));
        if (script is null || !File.Exists("/usr/bin/python3"))
        {
            Console.Error.WriteLine("# gloo baseline skipped: bench/python/allreduce_gloo.py or /usr/bin/python3 not found");
            return null;
        }
        var port = Machine.FreePort().ToString(CultureInfo.InvariantCulture);
        ProcessStartInfo StartInfo(int? rank)
        {
            var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true };
            foreach (var arg in new[] { script, "--workers", workers.ToString(CultureInfo.InvariantCulture), "--sizes", string.Join(',', sizes), "--iters", iters.ToString(CultureInfo.InvariantCulture), "--warmup", warmup.ToString(CultureInfo.InvariantCulture), "--port", port })
            {
                start.ArgumentList.Add(arg);
            }
            if (rank is { } r)
            {
                // One process per rank, each in its own namespace; Gloo binds the namespace's only interface.
                foreach (var arg in new[] { "--rank", r.ToString(CultureInfo.InvariantCulture), "--master-addr", EmulatedHosts.Address(0) })
                {
                    start.ArgumentList.Add(arg);
                }
                start.Environment["GLOO_SOCKET_IFNAME"] = "eth0";
                return EmulatedHosts.Inside(r, start);
            }
            return start;
        }
        var processes = separateHosts
            ? Enumerable.Range(0, workers).Select(r => Process.Start(StartInfo(r))!).ToList()
            : [Process.Start(StartInfo(null))!];
        try
        {
            var outputs = await Task.WhenAll(processes.Select(p => p.StandardOutput.ReadToEndAsync()));
            await Task.WhenAll(processes.Select(p => p.WaitForExitAsync()));
            if (processes.FirstOrDefault(p => p.ExitCode != 0) is { } failed)
            {
                Console.Error.WriteLine($"# gloo baseline failed with exit code {failed.ExitCode}");
                return null;
            }
            return Timing.ParseLines(outputs[0]);
        }
        finally
        {
            StopAll(processes);
        }
    }

    /// <summary>Kills the rank processes still running (a failed or abandoned run) and releases them all.</summary>
    private static void StopAll(IEnumerable<Process> processes)
    {
        foreach (var p in processes)
        {
            if (!p.HasExited)
            {
                p.Kill();
            }
            p.Dispose();
        }
    }

    private static ProcessStartInfo SelfStartInfo()
    {
        var path = Environment.ProcessPath!;
        if (Path.GetFileNameWithoutExtension(path) == "dotnet")
        {
            var start = new ProcessStartInfo(path);
            start.ArgumentList.Add(typeof(AllReduceBenchmark).Assembly.Location);
            return start;
        }
        return new ProcessStartInfo(path);
    }

    private static string? FindUp(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        var cwd = Path.Combine(Directory.GetCurrentDirectory(), relative);
        return File.Exists(cwd) ? cwd : null;
    }

    /// <summary>
    /// One size's result: wall seconds per all-reduce (the slowest rank's mean) and the CPU seconds (user + system, every
    /// thread) all ranks' processes spent per all-reduce, summed. On a CPU-bound machine shared with other work the wall
    /// time swings with the load while the CPU cost per operation does not, so "cpu vs gloo" (Gloo's CPU cost over
    /// Plateau's) is the steadier side-by-side comparison there.
    /// </summary>
    private readonly record struct Timing(double Seconds, double CpuSeconds)
    {
        /// <summary>Rank 0's output, one JSON line per size ({"bytes", "seconds", "cpu_seconds"}), by size.</summary>
        public static Dictionary<long, Timing> ParseLines(string output) =>
            output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => JsonSerializer.Deserialize<JsonElement>(line))
                .ToDictionary(j => j.GetProperty("bytes").GetInt64(), j => new Timing(j.GetProperty("seconds").GetDouble(), j.GetProperty("cpu_seconds").GetDouble()));
    }
}
