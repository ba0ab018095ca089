using System.Diagnostics;
using System.Globalization;

namespace Plateau.Bench;

/// <summary>
/// Ranks as if on separate hosts, on one machine: each rank gets its own Linux network namespace with one
/// interface (<c>eth0</c>, 10.77.0.(rank + 1)/24) whose veth peer sits on a bridge, and both directions of every
/// veth are shaped by a token bucket (tbf) to the link rate, like a full-duplex NIC port on a switch. Traffic
/// between ranks then crosses a real TCP/IP path with a bounded link instead of loopback, where the only limit
/// is the CPU. Needs root and iproute2 (<c>ip</c>, <c>tc</c>); created at start, removed on dispose (and any
/// leftover of a killed run removed first).
/// </summary>
internal sealed class EmulatedHosts : IDisposable
{
    private const string NamespacePrefix = "plbench";
    private const string Bridge = "plbenchbr";
    private const string Subnet = "10.77.0";

    // A token bucket must hold at least one timer tick of traffic (CONFIG_HZ may be as low as 100), or the
    // shaper cannot reach its rate; 10 ms of the link rate, at least 64 KiB.
    private static readonly TimeSpan BurstTime = TimeSpan.FromMilliseconds(10);
    private const long MinBurstBytes = 64 << 10;

    private EmulatedHosts(int count, long bitsPerSecond) => (Count, BitsPerSecond) = (count, bitsPerSecond);

    public int Count { get; }

    public long BitsPerSecond { get; }

    /// <summary>"4 namespaces, 2 Gbit/s links": for the table's header.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture, $"{Count} network namespaces on a bridge, {BitsPerSecond / 1e9:0.###} Gbit/s each way per rank (tbf)");

    /// <summary>The address rank <paramref name="rank"/> listens on inside its namespace.</summary>
    public static string Address(int rank) => $"{Subnet}.{rank + 1}";

    /// <summary>Why emulated hosts cannot be made here, or null when they can.</summary>
    public static string? Unavailable()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "--link needs Linux network namespaces";
        }
        if (Environment.UserName != "root")
        {
            return $"--link needs root (network namespaces, a bridge and tc); running as {Environment.UserName}";
        }
        return File.Exists("/usr/sbin/ip") && File.Exists("/usr/sbin/tc") ? null : "--link needs iproute2 (/usr/sbin/ip and /usr/sbin/tc)";
    }

    public static EmulatedHosts Create(int count, long bitsPerSecond)
    {
        RemoveLeftovers();
        var hosts = new EmulatedHosts(count, bitsPerSecond);
        try
        {
            var rate = bitsPerSecond.ToString(CultureInfo.InvariantCulture) + "bit";
            var burst = Math.Max(MinBurstBytes, (long)(bitsPerSecond / 8 * BurstTime.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            Ip("link", "add", Bridge, "type", "bridge");
            Ip("link", "set", Bridge, "up");
            for (var rank = 0; rank < count; rank++)
            {
                var ns = Namespace(rank);
                var veth = $"{NamespacePrefix}v{rank}";
                Ip("netns", "add", ns);
                Ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns);
                Ip("link", "set", veth, "master", Bridge, "up");
                Ip("-n", ns, "addr", "add", $"{Address(rank)}/24", "dev", "eth0");
                Ip("-n", ns, "link", "set", "eth0", "up");
                Ip("-n", ns, "link", "set", "lo", "up");
                Run("/usr/sbin/tc", "-n", ns, "qdisc", "add", "dev", "eth0", "root", "tbf", "rate", rate, "burst", burst, "latency", "50ms");
                Run("/usr/sbin/tc", "qdisc", "add", "dev", veth, "root", "tbf", "rate", rate, "burst", burst, "latency", "50ms");
            }
            return hosts;
        }
        catch
        {
            hosts.Dispose();
            throw;
        }
    }

    /// <summary>Start info that runs <paramref name="start"/> inside rank <paramref name="rank"/>'s namespace.</summary>
    public static ProcessStartInfo Inside(int rank, ProcessStartInfo start)
    {
        var wrapped = new ProcessStartInfo("/usr/sbin/ip")
        {
            RedirectStandardOutput = start.RedirectStandardOutput,
            RedirectStandardError = start.RedirectStandardError,
        };
        foreach (var arg in new[] { "netns", "exec", Namespace(rank), start.FileName }.Concat(start.ArgumentList))
        {
            wrapped.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in start.Environment)
        {
            wrapped.Environment[key] = value;
        }
        return wrapped;
    }

    public void Dispose() => RemoveLeftovers();

    private static string Namespace(int rank) => $"{NamespacePrefix}{rank}";

    private static void RemoveLeftovers()
    {
        var list = Capture("/usr/sbin/ip", "netns", "list");
        foreach (var ns in list.Split('\n').Select(l => l.Split(' ')[0]).Where(n => n.StartsWith(NamespacePrefix, StringComparison.Ordinal)))
        {
            Run("/usr/sbin/ip", "netns", "del", ns);
        }
        if (Capture("/usr/sbin/ip", "-o", "link", "show").Contains($" {Bridge}:", StringComparison.Ordinal))
        {
            Ip("link", "del", Bridge);
        }
    }

    private static void Ip(params string[] args) => Run("/usr/sbin/ip", args);

    private static void Run(string file, params string[] args) => Capture(file, args);

    /// <summary>Runs <paramref name="file"/> to its end and returns its standard output; a non-zero exit throws with its standard error.</summary>
    private static string Capture(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed with exit code {process.ExitCode}: {error.Result.Trim()}");
        }
        return output;
    }
}
