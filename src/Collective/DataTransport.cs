namespace Plateau.Collective;

/// <summary>How chunk data travels between ring neighbours. Control (Hello, aborts) always uses the gRPC stream.</summary>
public enum DataTransport
{
    /// <summary>Chunks travel on the authenticated gRPC (HTTP/2) stream itself.</summary>
    Grpc = 0,

    /// <summary>
    /// Chunks travel on a raw TCP socket negotiated through the gRPC Hello/Welcome (one-time token +
    /// HMAC); the gRPC stream stays open for control, aborts and liveness. Falls back to
    /// <see cref="Grpc"/> for a stream whose peer serves TLS or asked for gRPC.
    /// </summary>
    Socket = 1,
}
