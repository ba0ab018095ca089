using System.Security.Cryptography;
using Plateau.Collective;

namespace Plateau.Worker.Tests.Support;

/// <summary>World-size many ranks in this process, each with its own collective endpoint on loopback.</summary>
internal sealed class LoopbackRing : IAsyncDisposable
{
    private LoopbackRing(CollectiveServer[] servers, byte[] secret, string jobId)
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

    /// <summary>Servers only; ranks join themselves (trainers).</summary>
    public static async Task<LoopbackRing> StartServersAsync(int worldSize) =>
        new(await Task.WhenAll(Enumerable.Range(0, worldSize).Select(_ => CollectiveServer.StartAsync(new CollectiveServerOptions()))),
            RandomNumberGenerator.GetBytes(32), "job-" + Guid.NewGuid().ToString("N")[..8]);

    /// <summary>Servers and joined groups.</summary>
    public static async Task<LoopbackRing> StartAsync(int worldSize, long generation = 1)
    {
        var ring = await StartServersAsync(worldSize);
        ring.Groups = await Task.WhenAll(Enumerable.Range(0, worldSize).Select(rank => CollectiveGroup.JoinAsync(ring.Servers[rank], ring.Options(rank, generation))));
        return ring;
    }

    public RingOptions Options(int rank, long generation) => new()
    {
        JobId = JobId,
        Generation = generation,
        Rank = rank,
        WorldSize = Servers.Length,
        Peers = Addresses,
        Secret = Secret,
        ConnectTimeout = TimeSpan.FromSeconds(20),
        OperationTimeout = TimeSpan.FromSeconds(60),
    };

    /// <summary>Runs <paramref name="body"/> for every rank at once, each on its own dedicated thread (as the trainer does).</summary>
    public static Task<T[]> OnThreadsAsync<T>(int ranks, Func<int, T> body) =>
        Task.WhenAll(Enumerable.Range(0, ranks).Select(rank =>
        {
            var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
            var thread = new Thread(() =>
            {
                try
                {
                    done.SetResult(body(rank));
                }
                catch (Exception e)
                {
                    done.SetException(e);
                }
            }) { IsBackground = true, Name = $"test-rank-{rank}" };
            thread.Start();
            return done.Task;
        }));

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
