using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using Plateau.Collective;

namespace Plateau.Bench;

/// <summary>
/// <c>plateau-bench allreduce --workers N --sizes 1MiB,16MiB,100MiB</c>: ring all-reduce between N
/// separate processes on loopback (this executable re-launched per rank), against torch.distributed
/// Gloo (bench/python/allreduce_gloo.py) and single-stream loopback TCP (iperf3) in the same run.
/// Prints an nccl-tests-style table: busbw = 2(N-1)/N · bytes / time.
/// </summary>
public static class AllReduceBenchmark
{
    private const string SecretVariable = "PLATEAU_BENCH_SECRET";

    private const string Usage = "usage: plateau-bench allreduce [--workers N[,M]] [--sizes 1MiB,16MiB,100MiB] [--iters K] [--streams S] [--chunk 1MiB] [--compression None|BFloat16|Float16] [--transport Grpc,Socket] [--shared-memory on,off] [--no-baselines]";

    public static int Run(string[] args)
    {
        if (args.Any(a => a is "-h" or "--help"))
        {
            Console.WriteLine(Usage);
            return 0;
        }
        var options = Args.Parse(args);
        if (options.Get("child") is not null)
        {
            return RunRankAsync(options).GetAwaiter().GetResult();
        }
        return RunParentAsync(options).GetAwaiter().GetResult();
    }

    private static async Task<int> RunParentAsync(Args options)
    {
        var workerCounts = (options.Get("workers") ?? "2").Split(',').Select(w => int.Parse(w, CultureInfo.InvariantCulture)).ToArray();
        var sizes = (options.Get("sizes") ?? "1MiB,16MiB,100MiB").Split(',').Select(ParseSize).ToArray();
        var iters = int.Parse(options.Get("iters") ?? "10", CultureInfo.InvariantCulture);
        var skipBaselines = options.Get("no-baselines") is not null;
        Console.WriteLine($"# plateau-bench allreduce: {Environment.ProcessorCount} cores, load average {LoadAverage()}, {iters} iterations per size");

        double? iperf = skipBaselines ? null : await MeasureIperfAsync();
        if (iperf is { } bps)
        {
            Console.WriteLine($"# iperf3 single-stream loopback TCP: {bps / 8 / 1e9:0.00} GB/s ({bps / 1e9:0.0} Gbit/s)");
        }
        var transports = (options.Get("transport") ?? RingOptions.DefaultTransport.ToString()).Split(',')
            .Select(t => Enum.TryParse<DataTransport>(t, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) ? parsed : throw new ArgumentException($"--transport must list Grpc and/or Socket (was '{t}')"))
            .ToArray();
        var sharedMemoryModes = (options.Get("shared-memory") ?? "on").Split(',')
            .Select(m => m switch { "on" => true, "off" => false, _ => throw new ArgumentException($"--shared-memory must list on and/or off (was '{m}')") })
            .ToArray();
        foreach (var workers in workerCounts)
        {
            var runs = new List<(DataTransport Transport, bool SharedMemory, string Load, Dictionary<long, double> Seconds)>();
            foreach (var transport in transports)
            {
                foreach (var sharedMemory in sharedMemoryModes)
                {
                    var load = LoadAverage();
                    runs.Add((transport, sharedMemory, load, await RunRanksAsync(workers, sizes, iters, options, transport, sharedMemory)));
                }
            }
            var gloo = skipBaselines ? null : await RunGlooAsync(workers, sizes, iters);
            foreach (var (transport, sharedMemory, load, plateau) in runs)
            {
                Console.WriteLine();
                Console.WriteLine($"# N = {workers} processes, ring, data over {transport}{(transport == DataTransport.Socket ? sharedMemory ? " + shared memory" : " (payloads on TCP)" : "")} ({options.Get("streams") ?? RingOptions.DefaultStreamsPerPeer.ToString(CultureInfo.InvariantCulture)} stream(s)/peer, chunk {options.Get("chunk") ?? "1MiB"}, {options.Get("compression") ?? "None"}); load average {load}");
                Console.WriteLine($"{"size",10} {"count",12} {"plateau us",12} {"algbw GB/s",11} {"busbw GB/s",11} {"gloo us",10} {"gloo busbw",11} {"vs gloo",8} {"vs iperf3",9}");
                foreach (var size in sizes)
                {
                    var seconds = plateau[size];
                    var algbw = size / seconds / 1e9;
                    var busbw = algbw * 2 * (workers - 1) / workers;
                    var glooSeconds = gloo?.GetValueOrDefault(size);
                    var glooBusbw = glooSeconds is > 0 ? size / glooSeconds.Value / 1e9 * 2 * (workers - 1) / workers : double.NaN;
                    var vsIperf = iperf is { } i ? busbw / (i / 8 / 1e9) : double.NaN;
                    Console.WriteLine($"{FormatSize(size),10} {size / 4,12} {seconds * 1e6,12:0} {algbw,11:0.000} {busbw,11:0.000} {glooSeconds * 1e6,10:0} {glooBusbw,11:0.000} {busbw / glooBusbw,7:0.00}x {vsIperf,8:0%}");
                }
            }
        }
        return 0;
    }

    private static async Task<Dictionary<long, double>> RunRanksAsync(int workers, long[] sizes, int iters, Args options, DataTransport transport, bool sharedMemory)
    {
        var rendezvous = Directory.CreateTempSubdirectory("plateau-allreduce-");
        var secret = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        var processes = new List<Process>();
        try
        {
            for (var rank = 0; rank < workers; rank++)
            {
                var start = SelfStartInfo();
                foreach (var arg in new[] { "allreduce", "--child", "1", "--rank", rank.ToString(CultureInfo.InvariantCulture), "--workers", workers.ToString(CultureInfo.InvariantCulture),
                    "--sizes", string.Join(',', sizes), "--iters", iters.ToString(CultureInfo.InvariantCulture), "--rendezvous", rendezvous.FullName,
                    "--streams", options.Get("streams") ?? RingOptions.DefaultStreamsPerPeer.ToString(CultureInfo.InvariantCulture), "--chunk", options.Get("chunk") ?? "1MiB", "--compression", options.Get("compression") ?? "None", "--transport", transport.ToString(), "--shared-memory", sharedMemory ? "on" : "off" })
                {
                    start.ArgumentList.Add(arg);
                }
                start.Environment[SecretVariable] = secret;
                start.RedirectStandardOutput = true;
                processes.Add(Process.Start(start)!);
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
            return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => JsonSerializer.Deserialize<JsonElement>(line))
                .ToDictionary(j => j.GetProperty("bytes").GetInt64(), j => j.GetProperty("seconds").GetDouble());
        }
        finally
        {
            foreach (var p in processes)
            {
                if (!p.HasExited)
                {
                    p.Kill();
                }
                p.Dispose();
            }
            rendezvous.Delete(recursive: true);
        }
    }

    private static async Task<int> RunRankAsync(Args options)
    {
        var rank = int.Parse(options.Get("rank")!, CultureInfo.InvariantCulture);
        var workers = int.Parse(options.Get("workers")!, CultureInfo.InvariantCulture);
        var sizes = options.Get("sizes")!.Split(',').Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var iters = int.Parse(options.Get("iters")!, CultureInfo.InvariantCulture);
        var rendezvous = options.Get("rendezvous")!;
        await using var server = await CollectiveServer.StartAsync(new CollectiveServerOptions());
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
            StreamsPerPeer = int.Parse(options.Get("streams")!, CultureInfo.InvariantCulture),
            ChunkBytes = (int)ParseSize(options.Get("chunk")!),
            Compression = Enum.Parse<WireCompression>(options.Get("compression")!, ignoreCase: true),
            Transport = Enum.Parse<DataTransport>(options.Get("transport")!, ignoreCase: true),
            SharedMemory = options.Get("shared-memory") != "off",
        });
        foreach (var size in sizes)
        {
            var buffer = GC.AllocateUninitializedArray<float>((int)(size / sizeof(float)), pinned: true);
            buffer.AsSpan().Fill(1f);
            for (var i = 0; i < 2; i++)
            {
                await group.AllReduceAsync(buffer);
            }
            await group.BarrierAsync();
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < iters; i++)
            {
                await group.AllReduceAsync(buffer);
            }
            var seconds = watch.Elapsed.TotalSeconds / iters;
            var all = await group.AllGatherAsync(new[] { (float)seconds }.AsMemory());
            if (rank == 0)
            {
                Console.WriteLine(JsonSerializer.Serialize(new { bytes = size, seconds = all.Max(a => a[0]) }));
            }
        }
        await group.BarrierAsync();
        return 0;
    }

    private static async Task<Dictionary<long, double>?> RunGlooAsync(int workers, long[] sizes, int iters)
    {
        var script = FindUp(Path.Combine("bench", "python", "allreduce_gloo.py"));
        if (script is null || !File.Exists("/usr/bin/python3"))
        {
            Console.Error.WriteLine("# gloo baseline skipped: bench/python/allreduce_gloo.py or /usr/bin/python3 not found");
            return null;
        }
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true };
        foreach (var arg in new[] { script, "--workers", workers.ToString(CultureInfo.InvariantCulture), "--sizes", string.Join(',', sizes), "--iters", iters.ToString(CultureInfo.InvariantCulture), "--port", FreePort().ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            Console.Error.WriteLine($"# gloo baseline failed with exit code {process.ExitCode}");
            return null;
        }
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonSerializer.Deserialize<JsonElement>(line))
            .ToDictionary(j => j.GetProperty("bytes").GetInt64(), j => j.GetProperty("seconds").GetDouble());
    }

    /// <summary>Single-stream loopback TCP bits/s from iperf3 (5 s), or null when iperf3 is missing.</summary>
    private static async Task<double?> MeasureIperfAsync()
    {
        if (!File.Exists("/usr/bin/iperf3"))
        {
            Console.Error.WriteLine("# iperf3 baseline skipped: /usr/bin/iperf3 not found");
            return null;
        }
        var port = FreePort().ToString(CultureInfo.InvariantCulture);
        using var server = Process.Start(new ProcessStartInfo("/usr/bin/iperf3", ["-s", "-1", "-p", port]) { RedirectStandardOutput = true })!;
        await Task.Delay(500);
        using var client = Process.Start(new ProcessStartInfo("/usr/bin/iperf3", ["-c", "127.0.0.1", "-p", port, "-t", "5", "-J"]) { RedirectStandardOutput = true })!;
        var json = await client.StandardOutput.ReadToEndAsync();
        await client.WaitForExitAsync();
        await server.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        return JsonSerializer.Deserialize<JsonElement>(json).GetProperty("end").GetProperty("sum_received").GetProperty("bits_per_second").GetDouble();
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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    internal static long ParseSize(string text)
    {
        var units = new (string Suffix, long Factor)[] { ("GiB", 1L << 30), ("MiB", 1L << 20), ("KiB", 1L << 10), ("B", 1) };
        foreach (var (suffix, factor) in units)
        {
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                return (long)(double.Parse(text[..^suffix.Length], CultureInfo.InvariantCulture) * factor);
            }
        }
        return long.Parse(text, CultureInfo.InvariantCulture);
    }

    private static string FormatSize(long bytes) =>
        bytes >= 1 << 20 ? $"{bytes / (double)(1 << 20):0.##}MiB" : bytes >= 1 << 10 ? $"{bytes / 1024.0:0.##}KiB" : $"{bytes}B";

    /// <summary>Minimal "--name value" parser (the bench has no System.CommandLine dependency).</summary>
    private sealed class Args
    {
        private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

        public string? Get(string name) => _values.GetValueOrDefault(name);

        public static Args Parse(string[] args)
        {
            var parsed = new Args();
            for (var i = 0; i < args.Length; i++)
            {
                if (!args[i].StartsWith("--", StringComparison.Ordinal))
                {
                    throw new ArgumentException($"unexpected argument '{args[i]}'; options are --workers N[,M] --sizes 1MiB,16MiB --iters K --streams S --chunk 1MiB --compression None|BFloat16|Float16 --transport Grpc,Socket --shared-memory on,off --no-baselines");
                }
                var name = args[i][2..];
                parsed._values[name] = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "true";
            }
            return parsed;
        }
    }
}
