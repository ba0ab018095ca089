namespace Plateau.Collective;

/// <summary>
/// Who this rank is in one generation of a job's worker group, and how its ring behaves.
/// Checked by <see cref="RingOptionsValidator"/> when the group is joined.
/// </summary>
public sealed class RingOptions
{
    /// <summary>Default bytes of one pipelined piece on the wire (before compression).</summary>
    public const int DefaultChunkBytes = 1 << 20;

    /// <summary>Smallest accepted piece: below this per-frame overhead dominates.</summary>
    public const int MinChunkBytes = 4 << 10;

    /// <summary>Largest accepted piece; must stay below the transport's message size limit.</summary>
    public const int MaxChunkBytes = 8 << 20;

    /// <summary>Job the group belongs to; every stream carries it.</summary>
    public string JobId { get; set; } = "";

    /// <summary>Group formation number; peers from older generations are refused.</summary>
    public long Generation { get; set; }

    /// <summary>This process's rank, 0 ≤ Rank &lt; WorldSize.</summary>
    public int Rank { get; set; }

    /// <summary>Number of ranks in the ring.</summary>
    public int WorldSize { get; set; } = 1;

    /// <summary>Collective address of every rank, indexed by rank (e.g. "http://10.0.0.7:7100").</summary>
    public IReadOnlyList<string> Peers { get; set; } = [];

    /// <summary>Per-job shared secret (≥ 16 bytes) used to authenticate every stream with HMAC-SHA256.</summary>
    public byte[] Secret { get; set; } = [];

    /// <summary>How long joining waits for the ring neighbours to accept and connect.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Deadline of every collective operation, measured from its start on this rank.</summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>Bytes of one pipelined piece (fp32 size; halved on the wire by compression).</summary>
    public int ChunkBytes { get; set; } = DefaultChunkBytes;

    /// <summary>Default streams per peer: two HTTP/2 connections keep both the sender's and the receiver's connection loops busy (measured: docs/benchmarks.md).</summary>
    public const int DefaultStreamsPerPeer = 2;

    /// <summary>Parallel streams (each its own HTTP/2 connection) to the ring successor; piece p travels on stream p mod StreamsPerPeer.</summary>
    public int StreamsPerPeer { get; set; } = DefaultStreamsPerPeer;

    /// <summary>
    /// Data path for chunks: <see cref="DataTransport.Socket"/> (raw TCP negotiated through the
    /// authenticated gRPC Hello; falls back to gRPC when the peer serves TLS) or
    /// <see cref="DataTransport.Grpc"/> (chunks on the HTTP/2 stream). See docs/benchmarks.md.
    /// </summary>
    public DataTransport Transport { get; set; } = DefaultTransport;

    /// <summary>Default <see cref="Transport"/>: raw sockets, 3–4x the gRPC data path's bandwidth in the same runs (docs/benchmarks.md).</summary>
    public const DataTransport DefaultTransport = DataTransport.Socket;

    /// <summary>All-reduce wire encoding; broadcast and all-gather are always exact.</summary>
    public WireCompression Compression { get; set; } = WireCompression.None;

    /// <summary>
    /// With the socket transport, ranks on the same host pass payloads through a slot file in /dev/shm
    /// and only frame headers over TCP (on by default; a peer on another host, or a host without
    /// /dev/shm space, falls back to payloads on the socket by itself). Both ranks of a link must allow it.
    /// </summary>
    public bool SharedMemory { get; set; } = true;

    /// <summary>
    /// When the peers serve TLS: PEM/DER certificate (or CA) the peers' certificates must chain to or
    /// equal. Null uses the system trust store.
    /// </summary>
    public string? TrustedCertificatePath { get; set; }

    /// <summary>Address of rank <paramref name="rank"/> as configured.</summary>
    public const int DefaultTraceEveryNthOperation = 100;

    /// <summary>Trace the first operation and then one every N (a <c>plateau.collective</c> span); 0: none.</summary>
    public int TraceEveryNthOperation { get; set; } = DefaultTraceEveryNthOperation;

    public string AddressOf(int rank) => rank >= 0 && rank < Peers.Count ? Peers[rank] : "?";
}
