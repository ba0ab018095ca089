using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;

namespace Plateau.Collective.Tests.Ring;

public sealed class RefusalLoggingTests
{
    [Fact]
    public async Task ARefusedPeerIsLoggedWithItsClaimAndTheReason()
    {
        var provider = new CapturingProvider();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(provider).SetMinimumLevel(LogLevel.Debug));
        var servers = await Task.WhenAll(CollectiveServer.StartAsync(new CollectiveServerOptions(), loggers), CollectiveServer.StartAsync(new CollectiveServerOptions()));
        try
        {
            var peers = servers.Select(s => s.Address).ToArray();
            RingOptions Options(int rank) => new()
            {
                JobId = "job-log", Generation = 1, Rank = rank, WorldSize = 2, Peers = peers,
                Secret = RandomNumberGenerator.GetBytes(32), ConnectTimeout = TimeSpan.FromSeconds(5),
            };
            var joins = new[] { CollectiveGroup.JoinAsync(servers[0], Options(0)), CollectiveGroup.JoinAsync(servers[1], Options(1)) };
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

    private sealed class CapturingProvider : ILoggerProvider
    {
        public ConcurrentBag<string> Messages { get; } = [];

        public ILogger CreateLogger(string categoryName) => new Capturing(Messages);

        public void Dispose()
        {
        }

        private sealed class Capturing(ConcurrentBag<string> messages) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                messages.Add(formatter(state, exception));
        }
    }
}
