using System.Net.Sockets;

namespace Plateau.Collective.Transport.Sockets;

/// <summary>Socket settings shared by both ends of a data connection, and the connection preamble.</summary>
internal static class DataSockets
{
    /// <summary>"PLDT" little-endian: first four bytes of every data connection.</summary>
    public const uint Magic = 0x54444C50;

    /// <summary>Magic, one-time token, HMAC of the token.</summary>
    public const int PreambleBytes = 4 + PeerAuthenticator.DataTokenBytes + 32;

    /// <summary>Sent by the listener once the preamble checks out.</summary>
    public const byte Accepted = 1;

    public static void Configure(Socket socket, int bufferBytes, TimeSpan peerTimeout)
    {
        socket.NoDelay = true; // a piece's tail must not wait for Nagle behind the next header
        socket.SendBufferSize = bufferBytes;
        socket.ReceiveBufferSize = bufferBytes;
        // A vanished host (no FIN/RST) is caught by the gRPC control stream's PINGs after the peer
        // timeout; TCP keep-alive is the backstop for the data connection alone and follows the same
        // deadline (never shorter: a kernel-level verdict nobody chose would be a false alarm).
        var (idle, interval, probes) = PeerLiveness.TcpKeepAlive(peerTimeout);
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, idle);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, interval);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, probes);
    }

    /// <summary>Blocking receive of exactly <paramref name="buffer"/>.Length bytes; false on a clean end of stream before the first byte.</summary>
    public static bool ReceiveExactly(Socket socket, Span<byte> buffer)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = socket.Receive(buffer[read..], SocketFlags.None);
            if (n == 0)
            {
                return read == 0 ? false : throw new IOException($"connection closed mid-frame ({read} of {buffer.Length} bytes)");
            }
            read += n;
        }
        return true;
    }

    public static async Task<bool> ReceiveExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await socket.ReceiveAsync(buffer[read..], SocketFlags.None, cancellationToken);
            if (n == 0)
            {
                return false;
            }
            read += n;
        }
        return true;
    }

    public static async ValueTask SendAllAsync(Socket socket, ReadOnlyMemory<byte> data)
    {
        while (!data.IsEmpty)
        {
            var n = await socket.SendAsync(data, SocketFlags.None);
            data = data[n..];
        }
    }

    /// <summary>Closes at once with a reset (crash simulation, or a refused connection).</summary>
    public static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }
        socket.Dispose();
    }
}
