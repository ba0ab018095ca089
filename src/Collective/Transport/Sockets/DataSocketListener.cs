using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;

namespace Plateau.Collective.Transport.Sockets;

/// <summary>
/// The raw TCP listener of one endpoint's data sockets. It admits only connections that present a
/// one-time token handed out in an authenticated Welcome, together with the HMAC of that token under
/// the job secret, within <see cref="CollectiveServerOptions.HelloTimeout"/>; anything else is logged
/// and closed. The gRPC Hello stays the authentication of the peer; the token binds the socket to it.
/// </summary>
internal sealed class DataSocketListener : IDisposable
{
    private readonly Socket _listener;
    private readonly ConcurrentDictionary<string, Expected> _expected = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly CollectiveServerOptions _options;
    private readonly ILogger _logger;

    private DataSocketListener(Socket listener, CollectiveServerOptions options, ILogger logger)
    {
        _listener = listener;
        _options = options;
        _logger = logger;
        Port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        _ = Task.Run(AcceptLoopAsync);
    }

    public int Port { get; }

    public static DataSocketListener Start(CollectiveServerOptions options, ILogger logger)
    {
        var address = options.ListenHost == "localhost" ? IPAddress.Loopback : IPAddress.Parse(options.ListenHost);
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.ReceiveBufferSize = options.DataSocketBufferBytes; // inherited by accepted sockets before the window is advertised
            socket.Bind(new IPEndPoint(address, options.DataPort));
            socket.Listen(128);
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new InvalidOperationException($"CollectiveServerOptions.DataPort {options.DataPort} on {options.ListenHost} cannot be bound: {ex.Message}", ex);
        }
        var listener = new DataSocketListener(socket, options, logger);
        CollectiveLog.DataListening(logger, options.ListenHost, listener.Port);
        return listener;
    }

    /// <summary>Issues a one-time token for the data socket of one accepted stream.</summary>
    public PendingDataSocket Expect(CollectiveGroup group, int callerRank, int streamIndex)
    {
        var token = RandomNumberGenerator.GetBytes(PeerAuthenticator.DataTokenBytes);
        var key = Convert.ToHexString(token);
        var expected = new Expected(group, callerRank, streamIndex, new TaskCompletionSource<Socket>(TaskCreationOptions.RunContinuationsAsynchronously));
        _expected[key] = expected;
        return new PendingDataSocket(Port, token, expected.Arrived.Task, () =>
        {
            if (_expected.TryRemove(key, out var gone))
            {
                gone.Arrived.TrySetCanceled();
            }
        });
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket accepted;
            try
            {
                accepted = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }
                continue;
            }
            _ = HandshakeAsync(accepted);
        }
    }

    private async Task HandshakeAsync(Socket socket)
    {
        var remote = socket.RemoteEndPoint?.ToString() ?? "?";
        var preamble = new byte[DataSockets.PreambleBytes];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(_options.HelloTimeout);
        try
        {
            DataSockets.Configure(socket, _options.DataSocketBufferBytes, _options.PeerTimeout);
            if (!await DataSockets.ReceiveExactlyAsync(socket, preamble, timeout.Token))
            {
                Refuse(socket, remote, null, "closed before sending the data-connection preamble");
                return;
            }
        }
        catch (OperationCanceledException)
        {
            Refuse(socket, remote, null, $"no data-connection preamble within {_options.HelloTimeout.TotalSeconds:0.#} s");
            return;
        }
        catch (SocketException ex)
        {
            Refuse(socket, remote, null, $"connection failed during the preamble: {ex.Message}");
            return;
        }
        if (BinaryPrimitives.ReadUInt32LittleEndian(preamble) != DataSockets.Magic)
        {
            Refuse(socket, remote, null, "not a Plateau data connection (bad magic)");
            return;
        }
        var token = preamble.AsSpan(4, PeerAuthenticator.DataTokenBytes);
        var key = Convert.ToHexString(token);
        if (!_expected.TryGetValue(key, out var expected))
        {
            Refuse(socket, remote, null, "unknown, expired or already used data token");
            return;
        }
        var group = expected.Group;
        var mac = PeerAuthenticator.DataSocketMac(group.Secret, group.JobId, group.Generation, expected.CallerRank, expected.StreamIndex, token);
        if (!CryptographicOperations.FixedTimeEquals(mac, preamble.AsSpan(4 + PeerAuthenticator.DataTokenBytes)))
        {
            // The token stays valid: whoever sent this may have sniffed it but lacks the secret.
            Refuse(socket, remote, expected, "data token HMAC does not verify with this job's secret");
            return;
        }
        if (!_expected.TryRemove(new KeyValuePair<string, Expected>(key, expected)))
        {
            Refuse(socket, remote, expected, "data token already used");
            return;
        }
        try
        {
            await socket.SendAsync(new[] { DataSockets.Accepted }, SocketFlags.None, timeout.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            Refuse(socket, remote, expected, $"connection failed before the ack: {ex.Message}");
            expected.Arrived.TrySetException(new IOException($"data connection from {remote} failed before the ack: {ex.Message}", ex));
            return;
        }
        if (!expected.Arrived.TrySetResult(socket))
        {
            socket.Dispose(); // the stream gave up waiting meanwhile
        }
    }

    private void Refuse(Socket socket, string remote, Expected? claim, string reason)
    {
        CollectiveLog.DataRefused(_logger, remote, claim?.Group.JobId ?? "?", claim?.Group.Generation ?? -1, claim?.CallerRank ?? -1, reason);
        DataSockets.Reset(socket);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        foreach (var (_, expected) in _expected)
        {
            expected.Arrived.TrySetCanceled();
        }
        _expected.Clear();
    }

    private sealed record Expected(CollectiveGroup Group, int CallerRank, int StreamIndex, TaskCompletionSource<Socket> Arrived);
}
