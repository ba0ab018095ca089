using System.Net;
using Microsoft.Extensions.Options;

namespace Plateau.Collective;

/// <summary>
/// Listening side of a rank's collective endpoint (one Kestrel HTTP/2 server per process, shared by
/// every generation). See docs/collective.md for why the windows and limits have these values.
/// </summary>
public sealed class CollectiveServerOptions
{
    /// <summary>Per-stream HTTP/2 receive window: a few pieces in flight per stream so the sender never idles on WINDOW_UPDATE round trips.</summary>
    public const int DefaultStreamWindowBytes = 16 << 20;

    /// <summary>Per-connection HTTP/2 receive window (each stream has its own connection, so ≥ the stream window).</summary>
    public const int DefaultConnectionWindowBytes = 32 << 20;

    /// <summary>Largest accepted gRPC message: a piece (≤ <see cref="RingOptions.MaxChunkBytes"/>) or an all-gather block plus headers.</summary>
    public const int DefaultMaxMessageBytes = 64 << 20;

    /// <summary>Largest HTTP/2 frame Kestrel accepts (SETTINGS_MAX_FRAME_SIZE); fewer, larger DATA frames cost less per byte.</summary>
    public const int DefaultMaxFrameBytes = 1 << 20;

    /// <summary>Interface to listen on (default loopback; use 0.0.0.0 in a pod).</summary>
    public string ListenHost { get; set; } = "127.0.0.1";

    /// <summary>Port to listen on; 0 picks a free one (read the result from <see cref="CollectiveServer.Address"/>).</summary>
    public int Port { get; set; }

    /// <summary>
    /// TCP port of the raw data-socket listener (<see cref="DataTransport.Socket"/>), bound on
    /// <see cref="ListenHost"/> when the first socket-transport group joins; 0 picks a free one (it is
    /// handed to peers in the authenticated Welcome, so it need not be published).
    /// </summary>
    public int DataPort { get; set; }

    /// <summary>Kernel send/receive buffer of each data socket: several pieces in flight, so a sender rarely waits for its peer to read.</summary>
    public int DataSocketBufferBytes { get; set; } = DefaultDataSocketBufferBytes;

    /// <summary>Default <see cref="DataSocketBufferBytes"/>.</summary>
    public const int DefaultDataSocketBufferBytes = 4 << 20;

    /// <summary>Host name peers should use when <see cref="ListenHost"/> is a wildcard (e.g. the pod IP).</summary>
    public string? AdvertisedHost { get; set; }

    /// <summary>PFX/PKCS#12 server certificate: when set, the endpoint serves HTTPS (TLS) only.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>Password of <see cref="CertificatePath"/>, if any.</summary>
    public string? CertificatePassword { get; set; }

    public int StreamWindowBytes { get; set; } = DefaultStreamWindowBytes;

    public int ConnectionWindowBytes { get; set; } = DefaultConnectionWindowBytes;

    public int MaxMessageBytes { get; set; } = DefaultMaxMessageBytes;

    public int MaxFrameBytes { get; set; } = DefaultMaxFrameBytes;

    /// <summary>Default <see cref="PeerTimeout"/>.</summary>
    public static readonly TimeSpan DefaultPeerTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Smallest accepted <see cref="PeerTimeout"/>: both HTTP/2 stacks need ≥ 1 s for each half of it.</summary>
    public static readonly TimeSpan MinPeerTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The data plane's one liveness deadline: a peer connection that carries nothing at all (no data,
    /// no PING answer) for this long is declared dead. It applies to both ends of every link of every
    /// group joined on this endpoint (the server's Kestrel and the groups' HttpClients). A dead process
    /// or a reset connection is seen at once regardless; this deadline is only for a peer that is
    /// silent while its connection stays up (frozen host, partition), and it must be long enough that
    /// a peer starved of CPU is never mistaken for one. See <see cref="PeerLiveness"/>.
    /// </summary>
    public TimeSpan PeerTimeout { get; set; } = DefaultPeerTimeout;

    /// <summary>How long a new stream may take to send its Hello.</summary>
    public TimeSpan HelloTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How far a Hello's timestamp may be from this clock (replay window).</summary>
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>Validates <see cref="CollectiveServerOptions"/>; each message names the setting.</summary>
public sealed class CollectiveServerOptionsValidator : IValidateOptions<CollectiveServerOptions>
{
    public ValidateOptionsResult Validate(string? name, CollectiveServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (!IPAddress.TryParse(options.ListenHost, out _) && options.ListenHost != "localhost")
        {
            failures.Add($"CollectiveServerOptions.ListenHost must be an IP address or 'localhost' (was '{options.ListenHost}').");
        }
        if (options.Port is < 0 or > 65535)
        {
            failures.Add($"CollectiveServerOptions.Port must be in [0, 65535] (was {options.Port}).");
        }
        if (options.DataPort is < 0 or > 65535)
        {
            failures.Add($"CollectiveServerOptions.DataPort must be in [0, 65535] (was {options.DataPort}).");
        }
        if (options.DataPort != 0 && options.DataPort == options.Port)
        {
            failures.Add($"CollectiveServerOptions.DataPort must differ from Port ({options.Port}).");
        }
        if (options.DataSocketBufferBytes is < 65_536 or > 256 << 20)
        {
            failures.Add($"CollectiveServerOptions.DataSocketBufferBytes must be in [65536, {256 << 20}] (was {options.DataSocketBufferBytes}).");
        }
        if (options.CertificatePath is { } cert && !File.Exists(cert))
        {
            failures.Add($"CollectiveServerOptions.CertificatePath '{cert}' does not exist.");
        }
        // HTTP/2 limits: windows in [64 KiB, 2^31-1], frame size in [16 KiB, 2^24-1] (RFC 9113 §6.5.2).
        if (options.StreamWindowBytes < 65_535)
        {
            failures.Add($"CollectiveServerOptions.StreamWindowBytes must be ≥ 65535 (was {options.StreamWindowBytes}).");
        }
        if (options.ConnectionWindowBytes < options.StreamWindowBytes)
        {
            failures.Add($"CollectiveServerOptions.ConnectionWindowBytes must be ≥ StreamWindowBytes ({options.StreamWindowBytes}) (was {options.ConnectionWindowBytes}).");
        }
        if (options.MaxFrameBytes is < 16_384 or > 16_777_215)
        {
            failures.Add($"CollectiveServerOptions.MaxFrameBytes must be in [16384, 16777215] (was {options.MaxFrameBytes}).");
        }
        if (options.MaxMessageBytes < RingOptions.MaxChunkBytes + 1024)
        {
            failures.Add($"CollectiveServerOptions.MaxMessageBytes must exceed the largest piece, {RingOptions.MaxChunkBytes + 1024} (was {options.MaxMessageBytes}).");
        }
        if (options.PeerTimeout < CollectiveServerOptions.MinPeerTimeout || options.PeerTimeout > TimeSpan.FromHours(1))
        {
            failures.Add($"CollectiveServerOptions.PeerTimeout must be in [{CollectiveServerOptions.MinPeerTimeout.TotalSeconds:0} s, 1 h] (was {options.PeerTimeout}).");
        }
        if (options.HelloTimeout <= TimeSpan.Zero || options.MaxClockSkew <= TimeSpan.Zero)
        {
            failures.Add("CollectiveServerOptions.HelloTimeout and MaxClockSkew must be positive.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
