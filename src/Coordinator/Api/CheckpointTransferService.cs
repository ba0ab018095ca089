using System.Globalization;
using System.Runtime.CompilerServices;
using Grpc.Core;
using Plateau.Coordinator.Checkpoints;
using Plateau.Coordinator.Jobs;
using Proto = Plateau.Protos.V1;

namespace Plateau.Coordinator.Api;

/// <summary>plateau.v1.CheckpointTransfer: checkpoint bytes in and out of the store for workers without a
/// shared filesystem. Every transfer is authorised by the job's grain (generation, checkpoint, token).</summary>
public sealed class CheckpointTransferService(IGrainFactory grains, ICheckpointStorage store) : Proto.CheckpointTransfer.CheckpointTransferBase
{
    private const int ChunkBytes = 1 << 20;

    public override async Task<Proto.UploadResult> Upload(IAsyncStreamReader<Proto.UploadChunk> requestStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requestStream);
        ArgumentNullException.ThrowIfNull(context);
        if (!await requestStream.MoveNext(context.CancellationToken) || requestStream.Current.PartCase != Proto.UploadChunk.PartOneofCase.Header)
        {
            throw RpcErrors.InvalidArgument("header", "the first message of an upload must be the header");
        }

        var access = requestStream.Current.Header;
        var offset = requestStream.Current.Offset;
        if (offset < 0)
        {
            throw RpcErrors.InvalidArgument("offset", string.Create(CultureInfo.InvariantCulture, $"must be 0 or more, got {offset}"));
        }

        await Authorize(access, upload: true);
        // Hashed, flushed and sealed as the bytes arrive: the JobGrain's commit then only renames.
        var received = await store.ReceiveAsync(access.JobId, access.CheckpointId, offset, DataChunks(requestStream, context.CancellationToken), context.CancellationToken);
        return new Proto.UploadResult { SizeBytes = received.SizeBytes, Sha256 = received.Sha256 };
    }

    public override async Task<Proto.UploadStatusResult> UploadStatus(Proto.CheckpointAccess request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        await Authorize(request, upload: true);
        var progress = store.UploadStatus(request.JobId, request.CheckpointId);
        return new Proto.UploadStatusResult
        {
            ReceivedBytes = progress.Bytes,
            InProgress = progress.InProgress,
            Sealed = progress.SealedSha256 is { } sha ? new Proto.UploadResult { SizeBytes = progress.Bytes, Sha256 = sha } : null,
        };
    }

    /// <summary>The data messages after an upload's header; any other message is an INVALID_ARGUMENT.</summary>
    public static async IAsyncEnumerable<ReadOnlyMemory<byte>> DataChunks(IAsyncStreamReader<Proto.UploadChunk> requestStream, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(requestStream);
        while (await requestStream.MoveNext(cancellationToken))
        {
            var chunk = requestStream.Current;
            if (chunk.PartCase != Proto.UploadChunk.PartOneofCase.Data)
            {
                throw RpcErrors.InvalidArgument("data", "only the first message may be a header");
            }

            yield return chunk.Data.Memory;
        }
    }

    public override async Task Download(Proto.DownloadRequest request, IServerStreamWriter<Proto.DownloadChunk> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        var access = request.Access ?? throw RpcErrors.InvalidArgument("access", "is required");
        await Authorize(access, upload: false);
        await using var file = await store.OpenReadAsync(access.JobId, access.CheckpointId, context.CancellationToken);
        var buffer = new byte[ChunkBytes];
        int read;
        while ((read = await file.ReadAsync(buffer, context.CancellationToken)) > 0)
        {
            await responseStream.WriteAsync(new Proto.DownloadChunk { Data = Google.Protobuf.ByteString.CopyFrom(buffer, 0, read) }, context.CancellationToken);
        }
    }

    private async Task Authorize(Proto.CheckpointAccess access, bool upload)
    {
        var jobId = RpcErrors.RequireJobId(access.JobId);
        if (string.IsNullOrEmpty(access.CheckpointId))
        {
            throw RpcErrors.InvalidArgument("checkpoint_id", "is required");
        }

        if (string.IsNullOrEmpty(access.Token))
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, "token: is required"));
        }

        var authority = grains.GetGrain<ICheckpointAuthority>(jobId);
        var decision = upload
            ? await authority.AuthorizeUpload(access.Generation, access.CheckpointId, access.Token)
            : await authority.AuthorizeDownload(access.Generation, access.CheckpointId, access.Token);
        var code = decision.Verdict switch
        {
            CheckpointAccessVerdict.Allowed => StatusCode.OK,
            CheckpointAccessVerdict.UnknownJob => StatusCode.NotFound,
            CheckpointAccessVerdict.UnknownCheckpoint => upload ? StatusCode.FailedPrecondition : StatusCode.NotFound,
            CheckpointAccessVerdict.BadToken => StatusCode.Unauthenticated,
            _ => StatusCode.FailedPrecondition,
        };
        if (code != StatusCode.OK)
        {
            throw new RpcException(new Status(code, decision.Reason));
        }
    }
}
