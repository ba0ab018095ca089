using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Jobs;
using Plateau.Coordinator.Api;
using Plateau.Coordinator.Checkpoints;
using Plateau.Coordinator.Tests.Jobs;
using Plateau.Protos.V1;
using static Plateau.Coordinator.Tests.Jobs.JobTestKit;

namespace Plateau.Coordinator.Tests.Api;

public sealed class CheckpointTransferServiceTests(CoordinatorCluster fixture) : IClassFixture<CoordinatorCluster>
{
    private readonly CheckpointTransferService _service = new(
        fixture.Grains,
        new CheckpointStore(Options.Create(new CheckpointStoreOptions { RootDirectory = fixture.CheckpointDirectory }), NullLogger<CheckpointStore>.Instance));

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

    private static IEnumerable<UploadChunk> Chunks(CheckpointAccess header, byte[] bytes, int size)
    {
        yield return new UploadChunk { Header = header };
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

        var uploaded = await _service.Upload(new ListStreamReader<UploadChunk>(Chunks(access, bytes, 256 * 1024)), new TestServerCallContext());
        await job.CommitCheckpoint(new CheckpointCommit(1, ticket.CheckpointId, uploaded.SizeBytes, uploaded.Sha256));
        var downloaded = new RecordingStreamWriter<DownloadChunk>();
        await _service.Download(new DownloadRequest { Access = access }, downloaded, new TestServerCallContext());

        Assert.Equal((3_000_000L, Convert.ToHexStringLower(SHA256.HashData(bytes))), (uploaded.SizeBytes, uploaded.Sha256));
        Assert.Equal(bytes, downloaded.Messages.SelectMany(m => m.Data.ToByteArray()).ToArray());
    }

    [Fact]
    public async Task WrongTokenIsUnauthenticated()
    {
        var (job, id, _) = await FormedJob();
        var ticket = await job.BeginCheckpoint(new CheckpointRequest { Generation = 1 });
        var access = new CheckpointAccess { JobId = id, Generation = 1, CheckpointId = ticket.CheckpointId, Token = CheckpointAccessToken.Compute(new byte[32], id, 1, ticket.CheckpointId) };

        var error = await Assert.ThrowsAsync<RpcException>(() => _service.Upload(new ListStreamReader<UploadChunk>(Chunks(access, [1, 2], 1)), new TestServerCallContext()));

        Assert.Equal((StatusCode.Unauthenticated, $"token does not match generation 1 of job {id}"), (error.StatusCode, error.Status.Detail));
    }

    [Fact]
    public async Task UploadForACheckpointNotBegunOrAStaleGenerationIsRefused()
    {
        var (job, id, secret) = await FormedJob();
        var notBegun = new CheckpointAccess { JobId = id, Generation = 1, CheckpointId = "ckpt-x", Token = CheckpointAccessToken.Compute(secret, id, 1, "ckpt-x") };
        var stale = notBegun.Clone();
        stale.Generation = 7;

        var first = await Assert.ThrowsAsync<RpcException>(() => _service.Upload(new ListStreamReader<UploadChunk>(Chunks(notBegun, [1], 1)), new TestServerCallContext()));
        var second = await Assert.ThrowsAsync<RpcException>(() => _service.Upload(new ListStreamReader<UploadChunk>(Chunks(stale, [1], 1)), new TestServerCallContext()));
        var download = await Assert.ThrowsAsync<RpcException>(() => _service.Download(new DownloadRequest { Access = notBegun }, new RecordingStreamWriter<DownloadChunk>(), new TestServerCallContext()));

        Assert.Equal((StatusCode.FailedPrecondition, $"checkpoint ckpt-x was not begun in generation 1 of job {id}"), (first.StatusCode, first.Status.Detail));
        Assert.Equal(StatusCode.FailedPrecondition, second.StatusCode);
        Assert.Equal((StatusCode.NotFound, $"checkpoint ckpt-x is not committed in generation 1 of job {id}"), (download.StatusCode, download.Status.Detail));
    }

    [Fact]
    public async Task UploadMustStartWithTheHeader()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            _service.Upload(new ListStreamReader<UploadChunk>([new UploadChunk { Data = ByteString.CopyFrom(1, 2) }]), new TestServerCallContext()));

        Assert.Equal((StatusCode.InvalidArgument, "header: the first message of an upload must be the header"), (error.StatusCode, error.Status.Detail));
    }
}
