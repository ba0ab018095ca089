namespace Plateau.Collective.Transport;

/// <summary>
/// Turns the data plane's one deadline, <see cref="CollectiveServerOptions.PeerTimeout"/>, into the
/// HTTP/2 keep-alive settings of both ends of a link, so that a connection silent for that long is
/// dropped and nothing shorter ever is. A quarter of it passes in silence before a PING is sent; the
/// rest is the time the PING's ACK may take. Both HTTP/2 stacks check these on a 1 s heartbeat, so
/// the verdict lands between <c>PeerTimeout</c> and about 2 s later.
/// </summary>
internal static class PeerLiveness
{
    private static readonly TimeSpan Floor = TimeSpan.FromSeconds(1);

    /// <summary>Silence before a PING is sent.</summary>
    public static TimeSpan PingDelay(TimeSpan peerTimeout) => Max(Floor, peerTimeout / 4);

    /// <summary>How long the PING's ACK may take before the connection is declared dead.</summary>
    public static TimeSpan PingTimeout(TimeSpan peerTimeout) => Max(Floor, peerTimeout - PingDelay(peerTimeout));

    /// <summary>
    /// TCP keep-alive of a data socket, in whole seconds: idle time before the first probe (the PING
    /// delay), the interval between probes and their count, so the kernel gives up no sooner than the
    /// peer timeout. Linux allows at most 127 probes.
    /// </summary>
    public static (int IdleSeconds, int IntervalSeconds, int Probes) TcpKeepAlive(TimeSpan peerTimeout)
    {
        var idle = (int)Math.Ceiling(PingDelay(peerTimeout).TotalSeconds);
        var rest = (int)Math.Ceiling(PingTimeout(peerTimeout).TotalSeconds);
        var interval = Math.Max(1, (int)Math.Ceiling(rest / 10.0));
        return (idle, interval, Math.Clamp((int)Math.Ceiling(rest / (double)interval), 1, 127));
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
