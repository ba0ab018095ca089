using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;

namespace Plateau.Collective.Tests.Liveness;

/// <summary>
/// A ring of real processes (plateau-test-rank, one per rank) on loopback, with the signals the
/// liveness tests send them. Every line a rank prints is kept with the rank, so a test can wait for an
/// event and compare the wall-clock times the ranks recorded with the time it acted.
/// </summary>
internal sealed partial class RankProcesses : IAsyncDisposable
{
    private const int Sigkill = 9;
    private const int Sigcont = 18;
    private const int Sigstop = 19;

    private readonly Process[] _processes;
    private readonly List<JsonElement>[] _events;
    private readonly DirectoryInfo _rendezvous;
    private readonly Task[] _readers;
    private readonly Dictionary<(int From, int To), LoopbackProxy> _relays = [];

    private RankProcesses(Process[] processes, DirectoryInfo rendezvous)
    {
        _processes = processes;
        _rendezvous = rendezvous;
        _events = [.. processes.Select(_ => new List<JsonElement>())];
        _readers = [.. processes.Select((p, rank) => Task.Run(() => ReadAsync(p, rank)))];
    }

    public int World => _processes.Length;

    /// <summary>Starts <paramref name="world"/> ranks that all-reduce in a loop, and waits until every one has joined.
    /// <paramref name="throughRelays"/>: every rank dials every other through its own <see cref="LoopbackProxy"/>, so a
    /// test can cut a rank off the network (<see cref="Partition"/>).</summary>
    public static async Task<RankProcesses> StartAsync(int world, double peerTimeoutSeconds, DataTransport transport = RingOptions.DefaultTransport, bool throughRelays = false)
    {
        var rendezvous = Directory.CreateTempSubdirectory("plateau-liveness-");
        var secret = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        var binary = Path.Combine(AppContext.BaseDirectory, "plateau-test-rank.dll");
        var processes = Enumerable.Range(0, world).Select(rank =>
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = false, UseShellExecute = false };
            foreach (var argument in new[]
            {
                binary, "--rank", rank.ToString(System.Globalization.CultureInfo.InvariantCulture), "--world", world.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--rendezvous", rendezvous.FullName, "--peer-timeout", peerTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "--transport", transport.ToString(),
            })
            {
                start.ArgumentList.Add(argument);
            }
            if (throughRelays)
            {
                start.ArgumentList.Add("--dial-dir");
                start.ArgumentList.Add(DialDirectory(rendezvous, rank));
            }
            start.Environment["PLATEAU_TEST_RING_SECRET"] = secret;
            return Process.Start(start)!;
        }).ToArray();
        var ring = new RankProcesses(processes, rendezvous);
        try
        {
            if (throughRelays)
            {
                await ring.StartRelaysAsync();
            }

            for (var rank = 0; rank < world; rank++)
            {
                await ring.WaitForAsync(rank, "op", TimeSpan.FromSeconds(120));
            }
            return ring;
        }
        catch
        {
            await ring.DisposeAsync();
            throw;
        }
    }

    public static long NowMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    public string AddressOf(int rank) => File.ReadAllText(Path.Combine(_rendezvous.FullName, $"rank-{rank}.addr"));

    /// <summary>The address <paramref name="from"/> dials <paramref name="to"/> at: its relay, or the rank's own.</summary>
    public string DialAddress(int from, int to) => _relays.TryGetValue((from, to), out var relay) ? relay.Address : AddressOf(to);

    /// <summary>Cuts <paramref name="rank"/> off: every relay to or from it stops forwarding and keeps its connections open.</summary>
    public void Partition(int rank)
    {
        foreach (var ((from, to), relay) in _relays)
        {
            if (from == rank || to == rank)
            {
                relay.StopForwarding();
            }
        }
    }

    public void Kill(int rank) => Signal(rank, Sigkill);

    public void Freeze(int rank) => Signal(rank, Sigstop);

    public void Thaw(int rank) => Signal(rank, Sigcont);

    /// <summary>The first event of <paramref name="kind"/> from <paramref name="rank"/>; fails if the rank exits or the wait ends first.</summary>
    public async Task<JsonElement> WaitForAsync(int rank, string kind, TimeSpan limit)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            lock (_events[rank])
            {
                foreach (var e in _events[rank])
                {
                    if (e.GetProperty("event").GetString() == kind)
                    {
                        return e;
                    }
                }
            }
            if (_readers[rank].IsCompleted)
            {
                throw new InvalidOperationException($"rank {rank} ended without a '{kind}' event; it printed: {Describe(rank)}");
            }
            if (watch.Elapsed > limit)
            {
                throw new TimeoutException($"rank {rank} printed no '{kind}' event within {limit}; it printed: {Describe(rank)}");
            }
            await Task.Delay(20);
        }
    }

    /// <summary>How many all-reduces <paramref name="rank"/> has completed so far.</summary>
    public int Completed(int rank)
    {
        lock (_events[rank])
        {
            return _events[rank].Count(e => e.GetProperty("event").GetString() == "op");
        }
    }

    public bool HasExited(int rank) => _processes[rank].HasExited;

    public bool HasFailed(int rank)
    {
        lock (_events[rank])
        {
            return _events[rank].Any(e => e.GetProperty("event").GetString() == "failed");
        }
    }

    public string Describe(int rank)
    {
        lock (_events[rank])
        {
            var failures = _events[rank].Where(e => e.GetProperty("event").GetString() != "op").Select(e => e.GetRawText());
            return $"{Completed(rank)} ops, then [{string.Join(", ", failures)}]";
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            try
            {
                if (!process.HasExited)
                {
                    Signal(process, Sigcont);
                    process.Kill();
                }
            }
            catch (InvalidOperationException)
            {
                // exited meanwhile
            }
        }
        foreach (var process in _processes)
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            process.Dispose();
        }
        foreach (var relay in _relays.Values)
        {
            await relay.DisposeAsync();
        }
        _rendezvous.Delete(recursive: true);
    }

    private static string DialDirectory(DirectoryInfo rendezvous, int rank) => Path.Combine(rendezvous.FullName, $"dial-{rank}");

    /// <summary>Once every rank has published its address: a relay for each ordered pair, written where the dialling rank looks.</summary>
    private async Task StartRelaysAsync()
    {
        var addresses = new Uri[World];
        for (var rank = 0; rank < World; rank++)
        {
            var path = Path.Combine(_rendezvous.FullName, $"rank-{rank}.addr");
            var limit = Stopwatch.StartNew();
            while (!File.Exists(path))
            {
                Assert.True(limit.Elapsed < TimeSpan.FromSeconds(120), $"rank {rank} published no address: {Describe(rank)}");
                await Task.Delay(50);
            }
            addresses[rank] = new Uri(await File.ReadAllTextAsync(path));
        }

        for (var from = 0; from < World; from++)
        {
            var folder = Directory.CreateDirectory(DialDirectory(_rendezvous, from)).FullName;
            for (var to = 0; to < World; to++)
            {
                if (from == to)
                {
                    continue;
                }
                var relay = _relays[(from, to)] = new LoopbackProxy(addresses[to]);
                var path = Path.Combine(folder, $"rank-{to}.addr");
                await File.WriteAllTextAsync(path + ".tmp", relay.Address);
                File.Move(path + ".tmp", path);
            }
        }
    }

    private void Signal(int rank, int signal) => Signal(_processes[rank], signal);

    private static void Signal(Process process, int signal)
    {
        if (SysKill(process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    private async Task ReadAsync(Process process, int rank)
    {
        while (await process.StandardOutput.ReadLineAsync() is { } line)
        {
            if (line.StartsWith('{'))
            {
                var e = JsonSerializer.Deserialize<JsonElement>(line);
                lock (_events[rank])
                {
                    _events[rank].Add(e);
                }
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SysKill(int pid, int signal);
}
