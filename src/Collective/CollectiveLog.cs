using Microsoft.Extensions.Logging;

namespace Plateau.Collective;

/// <summary>Source-generated log messages of the collective data plane.</summary>
internal static partial class CollectiveLog
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Information,
        Message = "Collective endpoint listening on {Address} (TLS {Tls})")]
    public static partial void Listening(ILogger logger, string address, bool tls);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information,
        Message = "Job {JobId} generation {Generation}: rank {Rank}/{WorldSize} joined the ring ({Streams} stream(s) per peer, {Compression})")]
    public static partial void Joined(ILogger logger, string jobId, long generation, int rank, int worldSize, int streams, WireCompression compression);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning,
        Message = "Refused collective stream from {Remote} claiming job {JobId} generation {Generation} rank {Rank}: {Code} {Reason}")]
    public static partial void Refused(ILogger logger, string remote, string jobId, long generation, int rank, string code, string reason);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Error,
        Message = "Job {JobId} generation {Generation} rank {Rank}: ring failed, blaming rank {FailedRank} ({FailedAddress}): {Reason}")]
    public static partial void GroupFailed(ILogger logger, string jobId, long generation, int rank, int failedRank, string? failedAddress, string reason);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Debug,
        Message = "Job {JobId} generation {Generation} rank {Rank}: accepted stream {StreamIndex} from rank {PeerRank} ({Remote})")]
    public static partial void Accepted(ILogger logger, string jobId, long generation, int rank, int streamIndex, int peerRank, string remote);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Debug,
        Message = "Job {JobId} generation {Generation} rank {Rank}: rank {PeerRank} not ready yet ({Reason}); retrying")]
    public static partial void ConnectRetry(ILogger logger, string jobId, long generation, int rank, int peerRank, string reason);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Information,
        Message = "Job {JobId} generation {Generation} rank {Rank}: left the ring")]
    public static partial void Left(ILogger logger, string jobId, long generation, int rank);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Warning,
        Message = "Refused collective data connection from {Remote} (token issued for job {JobId} generation {Generation} rank {Rank}): {Reason}")]
    public static partial void DataRefused(ILogger logger, string remote, string jobId, long generation, int rank, string reason);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Information,
        Message = "Collective data sockets listening on {Host}:{Port}")]
    public static partial void DataListening(ILogger logger, string host, int port);
}
