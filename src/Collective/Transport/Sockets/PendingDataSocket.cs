namespace Plateau.Collective.Transport.Sockets;

/// <summary>A data socket promised in a Welcome: its port and token, the connection once it presents them, and a way to withdraw the token.</summary>
internal sealed class PendingDataSocket(int port, byte[] token, Task<System.Net.Sockets.Socket> arrived, Action withdraw)
{
    public int Port { get; } = port;

    public byte[] Token { get; } = token;

    public Task<System.Net.Sockets.Socket> Arrived { get; } = arrived;

    /// <summary>Invalidates the token (the stream failed or gave up waiting).</summary>
    public void Withdraw() => withdraw();
}
