using System.Globalization;
using System.Runtime.CompilerServices;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Rendezvous;
using Plateau.Protos.Calls;
using Proto = Plateau.Protos.V1;

namespace Plateau.Worker.Checkpointing;

/// <summary>
/// The worker shares no filesystem with the coordinator: a checkpoint is written to a local file, streamed
/// to the coordinator's CheckpointTransfer service (which hashes and seals what arrives) and deleted; a restore
/// downloads the committed file into a local one first. Each transfer carries the token derived from the
/// generation's collective secret, so only a member of the formed generation can move its checkpoints.
/// </summary>
public sealed partial class NetworkTransport : ICheckpointTransport, IDisposable
{
    /// <summary>1 MiB messages: well under gRPC's 4 MiB default limit, large enough that framing costs nothing.</summary>
    public const int ChunkBytes = 1 << 20;

    private readonly GrpcChannel _channel;
    private readonly Proto.CheckpointTransfer.CheckpointTransferClient _client;
    private readonly string _localFolder;
    private readonly ILogger _logger;

    /// <param name="address">The coordinator's gRPC API (http:// or https://, the system trust store).</param>
    /// <param name="localFolder">Where checkpoints are written before upload and downloaded before restore.</param>
    public NetworkTransport(Uri address, string localFolder, ILogger<NetworkTransport> logger)
    {
        ArgumentNullException.ThrowIfNull(address);
        Address = address;
        _localFolder = localFolder;
        _logger = logger;
        _channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                ConnectTimeout = TimeSpan.FromSeconds(15),
                // A transfer has no size-based deadline; a coordinator that vanished mid-stream is noticed by
                // its silence instead (no answer to HTTP/2 pings).
                KeepAlivePingDelay = TimeSpan.FromSeconds(15),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(20),
                KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            },
            DisposeHttpClient = true,
        });
        _client = new Proto.CheckpointTransfer.CheckpointTransferClient(_channel);
        RemoveLeftovers(localFolder);
    }

    public Uri Address { get; }

    public string StagingPathFor(Assignment assignment, CheckpointTicket ticket)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        ArgumentNullException.ThrowIfNull(ticket);
        Directory.CreateDirectory(_localFolder);
        return Path.Combine(_localFolder, $"{assignment.JobId}-{ticket.CheckpointId}.upload");
    }

    /// <summary>Uploads the file; the CheckpointTransfer service seals what arrived (no <paramref name="sealer"/> call).</summary>
    public void Publish(ICheckpointSealer sealer, Assignment assignment, CheckpointTicket ticket, long sizeBytes, string sha256, CancellationToken cancellationToken)
    {
        var path = StagingPathFor(assignment, ticket);
        try
        {
            var started = TimeProvider.System.GetTimestamp();
            var result = UploadAsync(Access(assignment, ticket.CheckpointId), path, cancellationToken).GetAwaiter().GetResult();
            if (result.SizeBytes != sizeBytes || !string.Equals(result.Sha256, sha256, StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"checkpoint {ticket.CheckpointId}: the coordinator received {result.SizeBytes} bytes with SHA-256 {result.Sha256}, this worker wrote {sizeBytes} bytes with SHA-256 {sha256}"));
            }

            var seconds = TimeProvider.System.GetElapsedTime(started).TotalSeconds;
            LogUploaded(_logger, ticket.CheckpointId, sizeBytes, Address, seconds);
        }
        finally
        {
            File.Delete(path);
        }
    }

    public RestoreFile Fetch(Assignment assignment, CheckpointRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        ArgumentNullException.ThrowIfNull(record);
        Directory.CreateDirectory(_localFolder);
        var path = Path.Combine(_localFolder, $"{assignment.JobId}-{record.CheckpointId}.restore");
        try
        {
            var started = TimeProvider.System.GetTimestamp();
            var size = DownloadAsync(Access(assignment, record.CheckpointId), path, cancellationToken).GetAwaiter().GetResult();
            var seconds = TimeProvider.System.GetElapsedTime(started).TotalSeconds;
            LogDownloaded(_logger, record.CheckpointId, size, Address, seconds);
            return new RestoreFile(path, deleteOnDispose: true);
        }
        catch
        {
            File.Delete(path);
            throw;
        }
    }

    public void Dispose() => _channel.Dispose();

    /// <summary>A worker killed mid-transfer leaves its local copy behind; the folder is this worker's own.</summary>
    private static void RemoveLeftovers(string folder)
    {
        if (!Directory.Exists(folder))
        {
            return;
        }

        foreach (var file in Directory.EnumerateFiles(folder).Where(f => f.EndsWith(".upload", StringComparison.Ordinal) || f.EndsWith(".restore", StringComparison.Ordinal)))
        {
            File.Delete(file);
        }
    }

    private static Proto.CheckpointAccess Access(Assignment assignment, string checkpointId) => new()
    {
        JobId = assignment.JobId,
        Generation = assignment.Generation,
        CheckpointId = checkpointId,
        Token = CheckpointAccessToken.Compute(assignment.CollectiveSecret, assignment.JobId, assignment.Generation, checkpointId),
    };

    /// <summary>Uploads the file; after a transient failure asks the coordinator how much it holds and sends the
    /// rest (<see cref="UploadRetry"/>), so a dropped connection costs the bytes in flight, not the checkpoint.</summary>
    private async Task<Proto.UploadResult> UploadAsync(Proto.CheckpointAccess access, string path, CancellationToken cancellationToken)
    {
        var length = new FileInfo(path).Length;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                long offset = 0;
                if (attempt > 1)
                {
                    var status = await _client.UploadStatusAsync(access, cancellationToken: cancellationToken);
                    if (status.Sealed is { } complete)
                    {
                        return complete; // the broken call had delivered everything; only its answer was lost
                    }

                    if (status.InProgress)
                    {
                        throw new RpcException(new Status(StatusCode.Aborted, "the coordinator is still receiving the broken upload"));
                    }

                    offset = UploadRetry.ContinueAt(status.ReceivedBytes, length);
                }

                return await UploadFromAsync(access, path, offset, cancellationToken);
            }
            catch (RpcException e) when (UploadRetry.ShouldContinue(e.StatusCode, attempt) && !cancellationToken.IsCancellationRequested)
            {
                var delay = UploadRetry.DelayAfter(attempt);
                LogUploadInterrupted(_logger, access.CheckpointId, e.StatusCode, e.Status.Detail, attempt, UploadRetry.MaxAttempts, delay.TotalSeconds);
                await Task.Delay(delay, cancellationToken);
            }
        }
    }

    private async Task<Proto.UploadResult> UploadFromAsync(Proto.CheckpointAccess access, string path, long offset, CancellationToken cancellationToken)
    {
        using var call = _client.Upload(cancellationToken: cancellationToken);
        return await call.SendAllAsync(Chunks(access, path, offset, cancellationToken), cancellationToken);
    }

    /// <summary>The header, then the file from <paramref name="offset"/> in <see cref="ChunkBytes"/> pieces.</summary>
    private static async IAsyncEnumerable<Proto.UploadChunk> Chunks(Proto.CheckpointAccess access, string path, long offset, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        yield return new Proto.UploadChunk { Header = access, Offset = offset };
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        file.Position = offset;
        var buffer = new byte[ChunkBytes];
        int read;
        while ((read = await file.ReadAsync(buffer, cancellationToken)) > 0)
        {
            yield return new Proto.UploadChunk { Data = ByteString.CopyFrom(buffer, 0, read) };
        }
    }

    private async Task<long> DownloadAsync(Proto.CheckpointAccess access, string path, CancellationToken cancellationToken)
    {
        using var call = _client.Download(new Proto.DownloadRequest { Access = access }, cancellationToken: cancellationToken);
        long size = 0;
        await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
        await foreach (var chunk in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            await file.WriteAsync(chunk.Data.Memory, cancellationToken);
            size += chunk.Data.Length;
        }

        return size;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Checkpoint {CheckpointId}: uploaded {Bytes} bytes to {Address} in {Seconds:0.00} s")]
    private static partial void LogUploaded(ILogger logger, string checkpointId, long bytes, Uri address, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checkpoint {CheckpointId}: upload interrupted ({Code}: {Detail}), attempt {Attempt} of {MaxAttempts}; continuing where the coordinator stopped in {Seconds:0} s")]
    private static partial void LogUploadInterrupted(ILogger logger, string checkpointId, StatusCode code, string detail, int attempt, int maxAttempts, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Checkpoint {CheckpointId}: downloaded {Bytes} bytes from {Address} in {Seconds:0.00} s")]
    private static partial void LogDownloaded(ILogger logger, string checkpointId, long bytes, Uri address, double seconds);
}
