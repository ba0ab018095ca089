using System.Security.Cryptography;
using Microsoft.Extensions.Logging;

namespace Plateau.Collective.Tests.Ring;

public sealed class RefusalLoggingTests
{
    [Fact]
    public async Task ARefusedPeerIsLoggedWithItsClaimAndTheReason()
    {
        var provider = new CapturingLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(provider).SetMinimumLevel(LogLevel.Debug));
        // Rank 1 lives on a third endpoint so that nothing ever answers rank 0's own connection
        // attempts (at peers[1]): rank 0 stays registered, retrying, while rank 1's Hello with the
        // wrong secret reaches it; otherwise rank 0 could give up first and rank 1 see UNAVAILABLE.
        var servers = await Task.WhenAll(CollectiveServer.StartAsync(new CollectiveServerOptions(), loggers), CollectiveServer.StartAsync(new CollectiveServerOptions()), CollectiveServer.StartAsync(new CollectiveServerOptions()));
        try
        {
            var peers = new[] { servers[0].Address, servers[1].Address };
            RingOptions Options(int rank) => new()
            {
                JobId = "job-log", Generation = 1, Rank = rank, WorldSize = 2, Peers = peers,
                Secret = RandomNumberGenerator.GetBytes(32), ConnectTimeout = TimeSpan.FromSeconds(3),
            };
            var joins = new[] { CollectiveGroup.JoinAsync(servers[0], Options(0)), CollectiveGroup.JoinAsync(servers[2], Options(1)) };
            foreach (var join in joins)
            {
                await Assert.ThrowsAsync<CollectiveException>(() => join);
            }
            Assert.Contains(provider.Messages, m => m.Contains("Refused collective stream", StringComparison.Ordinal)
                && m.Contains("job job-log generation 1 rank 1", StringComparison.Ordinal)
                && m.Contains("Unauthenticated", StringComparison.Ordinal));
        }
        finally
        {
            await Task.WhenAll(servers.Select(s => s.DisposeAsync().AsTask()));
        }
    }
}
