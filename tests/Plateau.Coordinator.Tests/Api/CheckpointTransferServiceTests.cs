using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Jobs;
using Plateau.Protos.Calls;
using Plateau.Protos.V1;
using static Plateau.Coordinator.Tests.Jobs.JobTestKit;

namespace Plateau.Coordinator.Tests.Api;

/// <summary>plateau.v1.CheckpointTransfer through the real coordinator host over HTTP/2 on loopback (no bearer
/// token: each transfer carries its own per-checkpoint token).</summary>
public sealed class CheckpointTransferServiceTests(ApiHost fixture) : IClassFixture<ApiHost>
{
    private readonly CheckpointTransfer.CheckpointTransferClient _client = new(fixture.Channel(token: null));

    private async Task<UploadResult> Upload(IEnumerable<UploadChunk> chunks)
    {
        using var call = _client.Upload();
        return await call.SendAllAsync(chunks.ToAsyncEnumerable());
    }

    private async Task<byte[]> Download(CheckpointAccess access)
    {
        using var call = _client.Download(new DownloadRequest { Access = access });
        var bytes = new List<byte>();
        await foreach (var chunk in call.ResponseStream.ReadAllAsync())
        {
            bytes.AddRange(chunk.Data.ToByteArray());
        }

        return [.. bytes];
    }

    private async Task<(IJobGrain Job, string JobId, byte[] Secret)> FormedJob()
    {
        var id = NewJobId("transfer");
        var job = fixture.Grains.GetGrain<IJobGrain>(id);
        await job.Submit(Spec());
        await job.RegisterWorker(Worker($"{id}-a"));
        await job.RegisterWorker(Worker($"{id}-b"));
        var assignment = (await job.GetAssignment($"{id}-a", "cpu:0"))!;
        return (job, id, assignment.CollectiveSecret);
    }

    private static IEnumerable<UploadChunk> Chunks(CheckpointAccess header, byte[] bytes, int size, long offset = 0)
    {
        yield return new UploadChunk { Header = header, Offset = offset };
        for (var i = 0; i < bytes.Length; i += size)
        {
            yield return new UploadChunk { Data = ByteString.CopyFrom(bytes, i, Math.Min(size, bytes.Length - i)) };
        }
    }

    [Fact]
    public async Task UploadedBytesCommitAndDownloadIntact()
    {
        var (job, id, secret) = await FormedJob();
        var ticket = await job.BeginCheckpoint(new CheckpointRequest { Generation = 1, Epoch = 1, GlobalStep = 10 });
        var bytes = RandomNumberGenerator.GetBytes(3_000_000);
        var access = new CheckpointAccess { JobId = id, Generation = 1, CheckpointId = ticket.CheckpointId, Token = CheckpointAccessToken.Compute(secret, id, 1, ticket.CheckpointId) };

        var uploaded = await Upload(Chunks(access, bytes, 256 * 1024));
        await job.CommitCheckpoint(new CheckpointCommit(1, ticket.CheckpointId, uploaded.SizeBytes, uploaded.Sha256));
        var downloaded = await Download(access);

        Assert.Equal((3_000_000L, Convert.ToHexStringLower(SHA256.HashData(bytes))), (uploaded.SizeBytes, uploaded.Sha256));
        Assert.Equal(bytes, downloaded);
    }

    [Fact]
    public async Task AnUploadWhoseConnectionBrokeContinuesAtTheOffsetTheCoordinatorHoldsAndCommitsWhole()
    {
        var (job, id, secret) = await FormedJob();
        var ticket = await job.BeginCheckpoint(new CheckpointRequest { Generation = 1, Epoch = 1, GlobalStep = 10 });
        var bytes = RandomNumberGenerator.GetBytes(3_000_000);
        var access = new CheckpointAccess { JobId = id, Generation = 1, CheckpointId = ticket.CheckpointId, Token = CheckpointAccessToken.Compute(secret, id, 1, ticket.CheckpointId) };

        // The worker's side of the connection goes away after 1 MiB: the call is reset, not completed.
        using (var broken = new CancellationTokenSource())
        {
            var call = _client.Upload(cancellationToken: broken.Token);
            await call.RequestStream.WriteAsync(new UploadChunk { Header = access });
            await call.RequestStream.WriteAsync(new UploadChunk { Data = ByteString.CopyFrom(bytes, 0, 1 << 20) });
            await Eventually(() => _client.UploadStatusAsync(access).ResponseAsync, s => s.ReceivedBytes == 1 << 20, "the first MiB received");
            await broken.CancelAsync();
            call.Dispose();
        }

        var held = await Eventually(() => _client.UploadStatusAsync(access).ResponseAsync, s => !s.InProgress, "the broken stream ended");
        Assert.Equal((1L << 20, (UploadResult?)null), (held.ReceivedBytes, held.Sealed));
        var uploaded = await Upload(Chunks(access, bytes[(int)held.ReceivedBytes..], 256 * 1024, offset: held.ReceivedBytes));
        var done = await _client.UploadStatusAsync(access);
        await job.CommitCheckpoint(new CheckpointCommit(1, ticket.CheckpointId, uploaded.SizeBytes, uploaded.Sha256));

        Assert.Equal((3_000_000L, Convert.ToHexStringLower(SHA256.HashData(bytes))), (uploaded.SizeBytes, uploaded.Sha256));
        Assert.Equal(uploaded, done.Sealed);
        Assert.Equal(bytes, await Download(access));
    }

    [Fact]
    public async Task AnUploadCannotContinuePastWhatTheCoordinatorHoldsOrAtANegativeOffset()
    {
        var (job, id, secret) = await FormedJob();
        var ticket = await job.BeginCheckpoint(new CheckpointRequest { Generation = 1, Epoch = 1, GlobalStep = 10 });
        var access = new CheckpointAccess { JobId = id, Generation = 1, CheckpointId = ticket.CheckpointId, Token = CheckpointAccessToken.Compute(secret, id, 1, ticket.CheckpointId) };

        var beyond = await Assert.ThrowsAsync<RpcException>(() => Upload(Chunks(access, [1, 2], 1, offset: 5)));
        var negative = await Assert.ThrowsAsync<RpcException>(() => Upload(Chunks(access, [1, 2], 1, offset: -1)));

        Assert.Equal((StatusCode.FailedPrecondition, $"checkpoint {ticket.CheckpointId}: cannot continue the upload at byte 5: the coordinator holds 0 bytes of it (ask UploadStatus, or start over at 0)"),
            (beyond.StatusCode, beyond.Status.Detail));
        Assert.Equal((StatusCode.InvalidArgument, "offset: must be 0 or more, got -1"), (negative.StatusCode, negative.Status.Detail));
    }

    [Fact]
    public async Task UploadStatusNeedsTheGenerationsToken()
    {
        var (job, id, _) = await FormedJob();
        var ticket = await job.BeginCheckpoint(new CheckpointRequest { Generation = 1 });
        var access = new CheckpointAccess { JobId = id, Generation = 1, CheckpointId = ticket.CheckpointId, Token = CheckpointAccessToken.Compute(new byte[32], id, 1, ticket.CheckpointId) };

        var error = await Assert.ThrowsAsync<RpcException>(() => _client.UploadStatusAsync(access).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
    }

    [Fact]
    public async Task WrongTokenIsUnauthenticated()
    {
        var (job, id, _) = await FormedJob();
        var ticket = await job.BeginCheckpoint(new CheckpointRequest { Generation = 1 });
        var access = new CheckpointAccess { JobId = id, Generation = 1, CheckpointId = ticket.CheckpointId, Token = CheckpointAccessToken.Compute(new byte[32], id, 1, ticket.CheckpointId) };

        var error = await Assert.ThrowsAsync<RpcException>(() => Upload(Chunks(access, [1, 2], 1)));

        Assert.Equal((StatusCode.Unauthenticated, $"token does not match generation 1 of job {id}"), (error.StatusCode, error.Status.Detail));
    }

    [Fact]
    public async Task ARefusalIsReportedWithTheCoordinatorsReasonWhileTheSenderIsStillStreaming()
    {
        var (job, id, _) = await FormedJob();
        var ticket = await job.BeginCheckpoint(new CheckpointRequest { Generation = 1 });
        var access = new CheckpointAccess { JobId = id, Generation = 1, CheckpointId = ticket.CheckpointId, Token = CheckpointAccessToken.Compute(new byte[32], id, 1, ticket.CheckpointId) };

        // 64 MiB behind a refused header: the writes outlive the call, and the coordinator's status must still come through.
        var error = await Assert.ThrowsAsync<RpcException>(() => Upload(Chunks(access, new byte[64 << 20], 1 << 20)));

        Assert.Equal((StatusCode.Unauthenticated, $"token does not match generation 1 of job {id}"), (error.StatusCode, error.Status.Detail));
    }

    [Fact]
    public async Task UploadForACheckpointNotBegunOrAStaleGenerationIsRefused()
    {
        var (job, id, secret) = await FormedJob();
        var notBegun = new CheckpointAccess { JobId = id, Generation = 1, CheckpointId = "ckpt-x", Token = CheckpointAccessToken.Compute(secret, id, 1, "ckpt-x") };
        var stale = notBegun.Clone();
        stale.Generation = 7;

        var first = await Assert.ThrowsAsync<RpcException>(() => Upload(Chunks(notBegun, [1], 1)));
        var second = await Assert.ThrowsAsync<RpcException>(() => Upload(Chunks(stale, [1], 1)));
        var download = await Assert.ThrowsAsync<RpcException>(() => Download(notBegun));

        Assert.Equal((StatusCode.FailedPrecondition, $"checkpoint ckpt-x was not begun in generation 1 of job {id}"), (first.StatusCode, first.Status.Detail));
        Assert.Equal(StatusCode.FailedPrecondition, second.StatusCode);
        Assert.Equal((StatusCode.NotFound, $"checkpoint ckpt-x is not committed in generation 1 of job {id}"), (download.StatusCode, download.Status.Detail));
    }

    [Fact]
    public async Task UploadMustStartWithTheHeader()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => Upload([new UploadChunk { Data = ByteString.CopyFrom(1, 2) }]));

        Assert.Equal((StatusCode.InvalidArgument, "header: the first message of an upload must be the header"), (error.StatusCode, error.Status.Detail));
    }
}
