using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Plateau.Collective;

// One rank of a ring, in its own process: starts its endpoint, publishes its address in a rendezvous
// folder, joins once every rank has, then all-reduces in a loop and prints one JSON line per event
// ("joined", "op", "failed", "done") with the wall-clock time, so a test can time what it did to a
// peer (SIGKILL, SIGSTOP) against what the survivors saw. Exit codes: 0 done, 3 the group failed.
var options = RankArguments.Parse(args);
var secret = Convert.FromHexString(Environment.GetEnvironmentVariable(RankArguments.SecretVariable)
    ?? throw new InvalidOperationException($"{RankArguments.SecretVariable} is not set"));

await using var server = await CollectiveServer.StartAsync(new CollectiveServerOptions { PeerTimeout = options.PeerTimeout });
var mine = Path.Combine(options.Rendezvous, $"rank-{options.Rank}");
await File.WriteAllTextAsync(mine + ".tmp", server.Address);
File.Move(mine + ".tmp", mine + ".addr");
var peers = new string[options.World];
for (var rank = 0; rank < options.World; rank++)
{
    var path = Path.Combine(options.Rendezvous, $"rank-{rank}.addr");
    while (!File.Exists(path))
    {
        await Task.Delay(50);
    }
    peers[rank] = await File.ReadAllTextAsync(path);
}

// Dialled through a test's relays (a partition test cuts them): the addresses this rank uses for the others.
for (var rank = 0; options.DialDirectory is { } dial && rank < options.World; rank++)
{
    var path = Path.Combine(dial, $"rank-{rank}.addr");
    while (rank != options.Rank && !File.Exists(path))
    {
        await Task.Delay(50);
    }

    peers[rank] = rank == options.Rank ? peers[rank] : await File.ReadAllTextAsync(path);
}

var buffer = new float[options.Floats];
var expected = options.World * (options.World + 1) / 2f;
try
{
    await using var group = await CollectiveGroup.JoinAsync(server, new RingOptions
    {
        JobId = "liveness",
        Generation = 1,
        Rank = options.Rank,
        WorldSize = options.World,
        Peers = peers,
        Secret = secret,
        Transport = options.Transport,
        ConnectTimeout = TimeSpan.FromSeconds(60),
        OperationTimeout = TimeSpan.FromSeconds(300),
    });
    Emit(new { @event = "joined", rank = options.Rank, address = server.Address });
    for (var iteration = 1; iteration <= options.Iterations; iteration++)
    {
        Array.Fill(buffer, options.Rank + 1f);
        await group.AllReduceAsync(buffer);
        if (buffer[0] != expected || buffer[^1] != expected)
        {
            throw new InvalidOperationException($"iteration {iteration}: sum {buffer[0]}, expected {expected}");
        }
        Emit(new { @event = "op", iteration });
        await Task.Delay(options.PauseMilliseconds);
    }
    Emit(new { @event = "done" });
    return 0;
}
catch (CollectiveException ex)
{
    Emit(new { @event = "failed", failedRank = ex.FailedRank, failedAddress = ex.FailedAddress, message = ex.Message });
    // A worker process outlives its failed group (it reports and rejoins); exiting at once would reset
    // its connections and could make a peer that has not yet read this rank's abort blame this rank.
    await Task.Delay(TimeSpan.FromSeconds(options.LingerSeconds));
    return 3;
}

static void Emit(object payload)
{
    var line = JsonSerializer.SerializeToElement(payload);
    var withTime = new Dictionary<string, object?>(StringComparer.Ordinal) { ["atMs"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() };
    foreach (var property in line.EnumerateObject())
    {
        withTime[property.Name] = property.Value;
    }
    Console.Out.WriteLine(JsonSerializer.Serialize(withTime));
    Console.Out.Flush();
}

/// <summary>Command line of one test rank: <c>--rank R --world W --rendezvous DIR [--peer-timeout S] [--transport T] [--floats N] [--iterations K] [--pause MS] [--linger S] [--dial-dir DIR]</c>.</summary>
internal sealed record RankArguments(int Rank, int World, string Rendezvous, TimeSpan PeerTimeout, DataTransport Transport, int Floats, int Iterations, int PauseMilliseconds, int LingerSeconds, string? DialDirectory)
{
    public const string SecretVariable = "PLATEAU_TEST_RING_SECRET";

    public static RankArguments Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            values[args[i].TrimStart('-')] = args[i + 1];
        }
        int Int(string name, int fallback) => values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        return new RankArguments(
            Int("rank", -1),
            Int("world", 0),
            values.GetValueOrDefault("rendezvous") ?? throw new ArgumentException("--rendezvous DIR is required"),
            TimeSpan.FromSeconds(values.TryGetValue("peer-timeout", out var t) ? double.Parse(t, CultureInfo.InvariantCulture) : CollectiveServerOptions.DefaultPeerTimeout.TotalSeconds),
            values.TryGetValue("transport", out var transport) ? Enum.Parse<DataTransport>(transport) : RingOptions.DefaultTransport,
            Int("floats", 1 << 18),
            Int("iterations", 100_000),
            Int("pause", 20),
            Int("linger", 60),
            values.GetValueOrDefault("dial-dir"));
    }
}
