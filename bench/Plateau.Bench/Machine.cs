using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Plateau.Bench;

/// <summary>What every benchmark asks of the machine it runs on: its load, a free loopback port, and the
/// loopback TCP baseline (iperf3) that transfer benchmarks print beside their own numbers.</summary>
internal static class Machine
{
    /// <summary>The 1, 5 and 15 minute load averages, or "n/a" off Linux.</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    /// <summary>"2 cores, AMD EPYC … (AVX-512)": the logical processors, the CPU model and whether it has AVX-512F,
    /// from /proc/cpuinfo ("CPU model n/a" off Linux).</summary>
    public static string Describe()
    {
        var lines = File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").ToList() : [];
        var model = lines.FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "CPU model n/a";
        var avx512 = lines.FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal))?.Split(' ').Contains("avx512f") == true;
        return $"{Environment.ProcessorCount} cores, {model} ({(avx512 ? "AVX-512" : "no AVX-512")})";
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Single-stream loopback TCP bits/s from iperf3 (5 s), or null when iperf3 is missing.</summary>
    public static Task<double?> MeasureIperfAsync() => MeasureIperfAsync("127.0.0.1", server => server, client => client);

    /// <summary>Single-stream TCP bits/s from iperf3 (5 s) to a server at <paramref name="serverAddress"/>, each side's
    /// process placed by its function (e.g. in a network namespace), or null when iperf3 is missing.</summary>
    public static async Task<double?> MeasureIperfAsync(string serverAddress, Func<ProcessStartInfo, ProcessStartInfo> placeServer, Func<ProcessStartInfo, ProcessStartInfo> placeClient)
    {
        if (!File.Exists("/usr/bin/iperf3"))
        {
            Console.Error.WriteLine("# iperf3 baseline skipped: /usr/bin/iperf3 not found");
            return null;
        }
        var port = FreePort().ToString(CultureInfo.InvariantCulture);
        using var server = Process.Start(placeServer(new ProcessStartInfo("/usr/bin/iperf3", ["-s", "-1", "-B", serverAddress, "-p", port]) { RedirectStandardOutput = true }))!;
        await Task.Delay(500);
        using var client = Process.Start(placeClient(new ProcessStartInfo("/usr/bin/iperf3", ["-c", serverAddress, "-p", port, "-t", "5", "-J"]) { RedirectStandardOutput = true }))!;
        var json = await client.StandardOutput.ReadToEndAsync();
        await client.WaitForExitAsync();
        await server.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        return JsonSerializer.Deserialize<JsonElement>(json).GetProperty("end").GetProperty("sum_received").GetProperty("bits_per_second").GetDouble();
    }
}
