using System.Security.Cryptography;

namespace Plateau.Collective.Tests;

/// <summary>World-size many ranks in this process, each with its own Kestrel endpoint on a loopback port.</summary>
internal sealed class RingHarness : IAsyncDisposable
{
    private RingHarness(CollectiveServer[] servers, byte[] secret, string jobId)
    {
        Servers = servers;
        Secret = secret;
        JobId = jobId;
    }

    public CollectiveServer[] Servers { get; }

    public byte[] Secret { get; }

    public string JobId { get; }

    public CollectiveGroup[] Groups { get; private set; } = [];

    public string[] Addresses => [.. Servers.Select(s => s.Address)];

    /// <summary>Data path every rank asks for (set before joining).</summary>
    public DataTransport Transport { get; init; }

    /// <summary>Servers only: each rank joins by itself (as trainers do), with <see cref="Options"/>.</summary>
    public static async Task<RingHarness> StartServersAsync(int worldSize, DataTransport transport = RingOptions.DefaultTransport)
    {
        var servers = await Task.WhenAll(Enumerable.Range(0, worldSize).Select(_ => CollectiveServer.StartAsync(new CollectiveServerOptions())));
        return new RingHarness(servers, RandomNumberGenerator.GetBytes(32), "job-" + Guid.NewGuid().ToString("N")[..8]) { Transport = transport };
    }

    /// <summary>Servers and joined groups.</summary>
    public static async Task<RingHarness> StartAsync(int worldSize, Action<RingOptions>? configure = null, long generation = 1, DataTransport transport = RingOptions.DefaultTransport)
    {
        var harness = await StartServersAsync(worldSize, transport);
        await harness.JoinAsync(generation, configure);
        return harness;
    }

    public RingOptions Options(int rank, long generation, Action<RingOptions>? configure = null)
    {
        var options = new RingOptions
        {
            JobId = JobId,
            Generation = generation,
            Rank = rank,
            WorldSize = Servers.Length,
            Peers = Addresses,
            Secret = Secret,
            Transport = Transport,
            // An upper bound, not an expectation: six in-process ranks beside eight busy loops once took over 20 s
            // to connect (fresh-clone run, 2026-12-06). Tests of the connect deadline set their own.
            ConnectTimeout = TimeSpan.FromSeconds(90),
            OperationTimeout = TimeSpan.FromSeconds(60),
        };
        configure?.Invoke(options);
        return options;
    }

    public async Task JoinAsync(long generation, Action<RingOptions>? configure = null)
    {
        Groups = await Task.WhenAll(Enumerable.Range(0, Servers.Length).Select(rank => CollectiveGroup.JoinAsync(Servers[rank], Options(rank, generation, configure))));
    }

    /// <summary>Runs <paramref name="action"/> on every rank at once.</summary>
    public Task AllAsync(Func<CollectiveGroup, int, Task> action) =>
        Task.WhenAll(Groups.Select((g, rank) => Task.Run(() => action(g, rank))));

    public async ValueTask DisposeAsync()
    {
        foreach (var group in Groups)
        {
            await group.DisposeAsync();
        }
        foreach (var server in Servers)
        {
            await server.DisposeAsync();
        }
    }
}
