using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Plateau.Collective.Transport;
using Plateau.Collective.Transport.Sockets;

namespace Plateau.Collective.Tests.Ring;

/// <summary>The raw data socket: negotiated through the authenticated Hello, admitted only with its one-time token and the token's HMAC.</summary>
public sealed class DataSocketTests
{
    [Fact]
    public async Task ASocketRingCarriesItsChunksOnDataSocketsAndAGrpcRingDoesNot()
    {
        await using (var sockets = await RingHarness.StartAsync(3, o => o.StreamsPerPeer = 2, transport: DataTransport.Socket))
        {
            Assert.All(sockets.Groups, g => Assert.Equal(2, g.DataSocketCount));
            var buffers = Enumerable.Range(0, 3).Select(r => Enumerable.Range(0, 300_001).Select(i => (float)(i % 7) + r).ToArray()).ToArray();
            await sockets.AllAsync((g, rank) => g.AllReduceAsync(buffers[rank]));
            Assert.All(buffers, b => Assert.Equal(3f * (12 % 7) + 3f, b[12]));
        }
        await using var grpc = await RingHarness.StartAsync(2, transport: DataTransport.Grpc);
        Assert.All(grpc.Groups, g => Assert.Equal(0, g.DataSocketCount));
    }

    [Fact]
    public async Task AMixedRingFallsBackToGrpcWhereEitherSideAskedForIt()
    {
        await using var ring = await RingHarness.StartAsync(2, transport: DataTransport.Grpc);
        foreach (var group in ring.Groups)
        {
            await group.DisposeAsync();
        }
        // Rank 0 asks for sockets, rank 1 for gRPC: neither stream gets a socket, the ring still works.
        var groups = await Task.WhenAll(Enumerable.Range(0, 2).Select(rank => CollectiveGroup.JoinAsync(ring.Servers[rank], ring.Options(rank, 2, o => o.Transport = rank == 0 ? DataTransport.Socket : DataTransport.Grpc))));
        try
        {
            Assert.All(groups, g => Assert.Equal(0, g.DataSocketCount));
            var buffers = new[] { new[] { 1f, 2f }, new[] { 3f, 4f } };
            await Task.WhenAll(groups.Select((g, rank) => g.AllReduceAsync(buffers[rank])));
            Assert.All(buffers, b => Assert.Equal([4f, 6f], b));
        }
        finally
        {
            foreach (var group in groups)
            {
                await group.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task AConnectionWithAWrongOrMissingTokenIsRefusedAndLogged()
    {
        var provider = new CapturingLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(provider).SetMinimumLevel(LogLevel.Debug));
        await using var server = await CollectiveServer.StartAsync(new CollectiveServerOptions { HelloTimeout = TimeSpan.FromSeconds(1) }, loggers);
        await using var peer = await CollectiveServer.StartAsync(new CollectiveServerOptions());
        var secret = RandomNumberGenerator.GetBytes(32);
        RingOptions Options(int rank) => new()
        {
            JobId = "job-data", Generation = 3, Rank = rank, WorldSize = 2, Peers = [server.Address, peer.Address],
            Secret = secret, Transport = DataTransport.Socket, ConnectTimeout = TimeSpan.FromSeconds(20),
        };
        var groups = await Task.WhenAll(CollectiveGroup.JoinAsync(server, Options(0)), CollectiveGroup.JoinAsync(peer, Options(1)));
        try
        {
            var listener = server.Registry.DataListener();

            // A made-up token.
            Assert.True(await IsRefusedAsync(listener.Port, Preamble(RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32))));
            AssertLogged(provider, "unknown, expired or already used data token");

            // Nothing at all within HelloTimeout.
            Assert.True(await IsRefusedAsync(listener.Port, []));
            AssertLogged(provider, "no data-connection preamble within 1 s");

            // A real token with a MAC made without the job secret: refused, and the token survives.
            var pending = listener.Expect(groups[0], callerRank: 1, streamIndex: 0);
            var forged = PeerAuthenticator.DataSocketMac(RandomNumberGenerator.GetBytes(32), "job-data", 3, 1, 0, pending.Token);
            Assert.True(await IsRefusedAsync(listener.Port, Preamble(pending.Token, forged)));
            AssertLogged(provider, "data token HMAC does not verify with this job's secret");
            Assert.Contains(provider.Messages, m => m.Contains("job job-data generation 3 rank 1", StringComparison.Ordinal));
            Assert.False(pending.Arrived.IsCompleted);

            // The same token with the right MAC is admitted (ack byte), once.
            var mac = PeerAuthenticator.DataSocketMac(secret, "job-data", 3, 1, 0, pending.Token);
            using (var admitted = await ConnectAsync(listener.Port, Preamble(pending.Token, mac)))
            {
                var ack = new byte[1];
                Assert.Equal(1, await admitted.ReceiveAsync(ack).WaitAsync(TimeSpan.FromSeconds(10)));
                Assert.Equal(DataSockets.Accepted, ack[0]);
                using var accepted = await pending.Arrived.WaitAsync(TimeSpan.FromSeconds(10));
            }
            Assert.True(await IsRefusedAsync(listener.Port, Preamble(pending.Token, mac)));

            // The ring itself is unaffected by the strangers.
            var buffers = new[] { new[] { 1f }, new[] { 2f } };
            await Task.WhenAll(groups.Select((g, rank) => g.AllReduceAsync(buffers[rank])));
            Assert.All(buffers, b => Assert.Equal(3f, b[0]));
        }
        finally
        {
            foreach (var group in groups)
            {
                await group.DisposeAsync();
            }
        }
    }

    [Fact]
    public void TransportAndDataPortSettingsAreValidatedByName()
    {
        var ring = new RingOptionsValidator().Validate(null, new RingOptions { JobId = "j", Peers = ["http://a:1"], Secret = new byte[16], Transport = (DataTransport)7 });
        Assert.Contains(ring.Failures!, f => f.Contains("RingOptions.Transport", StringComparison.Ordinal));
        var server = new CollectiveServerOptionsValidator().Validate(null, new CollectiveServerOptions { Port = 7100, DataPort = 7100, DataSocketBufferBytes = 10 });
        Assert.Contains(server.Failures!, f => f.Contains("CollectiveServerOptions.DataPort must differ from Port", StringComparison.Ordinal));
        Assert.Contains(server.Failures!, f => f.Contains("CollectiveServerOptions.DataSocketBufferBytes", StringComparison.Ordinal));
        Assert.Contains(new CollectiveServerOptionsValidator().Validate(null, new CollectiveServerOptions { DataPort = 70000 }).Failures!,
            f => f.Contains("CollectiveServerOptions.DataPort must be in [0, 65535]", StringComparison.Ordinal));
    }

    private static byte[] Preamble(byte[] token, byte[] mac)
    {
        var preamble = new byte[DataSockets.PreambleBytes];
        BinaryPrimitives.WriteUInt32LittleEndian(preamble, DataSockets.Magic);
        token.CopyTo(preamble, 4);
        mac.CopyTo(preamble, 4 + token.Length);
        return preamble;
    }

    private static async Task<Socket> ConnectAsync(int port, byte[] preamble)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        if (preamble.Length > 0)
        {
            await socket.SendAsync(preamble);
        }
        return socket;
    }

    /// <summary>True when the listener closes the connection (end of stream or reset) without an ack.</summary>
    private static async Task<bool> IsRefusedAsync(int port, byte[] preamble)
    {
        using var socket = await ConnectAsync(port, preamble);
        var buffer = new byte[1];
        try
        {
            return await socket.ReceiveAsync(buffer).WaitAsync(TimeSpan.FromSeconds(10)) == 0;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
    }

    private static void AssertLogged(CapturingLoggerProvider provider, string reason) =>
        Assert.Contains(provider.Messages, m => m.Contains("Refused collective data connection from 127.0.0.1:", StringComparison.Ordinal) && m.Contains(reason, StringComparison.Ordinal));
}
