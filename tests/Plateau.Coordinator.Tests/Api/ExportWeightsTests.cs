using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Jobs;
using Plateau.Coordinator.Configuration;
using Plateau.Coordinator.Checkpoints;
using Plateau.Coordinator.Hosting;
using Plateau.Coordinator.Tests.Jobs;
using Plateau.Protos.V1;
using static Plateau.Coordinator.Tests.Jobs.JobTestKit;

namespace Plateau.Coordinator.Tests.Api;

/// <summary>ExportWeights cuts the model's tensors out of a committed checkpoint, byte for byte.</summary>
public sealed class ExportWeightsTests(CoordinatorCluster fixture) : IClassFixture<CoordinatorCluster>
{
    private readonly Coordinator.Api.JobService _service = new(fixture.Grains, Options.Create(new CoordinatorOptions()), TimeProvider.System,
        new DirectoryCheckpointStorage(Options.Create(new CheckpointStoreOptions { RootDirectory = fixture.CheckpointDirectory }), NullLogger<DirectoryCheckpointStorage>.Instance));

    private readonly TestServerCallContext _context = new();

    /// <summary>A checkpoint as the worker writes it: model.* then optimizer.momentum.*, with metadata.</summary>
    private static byte[] CheckpointFile(float[] weight, long batches, float[] momentum, string format = WeightsExport.CheckpointFormat) =>
        SafeTensorsFile(
            [("model.fc.weight", "F32", [weight.Length], Floats(weight)), ("model.bn.num_batches_tracked", "I64", [], BitConverter.GetBytes(batches)),
             ("optimizer.momentum.fc.weight", "F32", [momentum.Length], Floats(momentum))],
            new() { ["format"] = format, ["model"] = "resnet18", ["job"] = "j", ["epoch"] = "1", ["global_step"] = "10", ["cursor"] = "0", ["generation"] = "1" });

    private static byte[] Floats(float[] values) => [.. values.SelectMany(BitConverter.GetBytes)];

    private static byte[] SafeTensorsFile(IEnumerable<(string Name, string Dtype, long[] Shape, byte[] Data)> tensors, Dictionary<string, string> metadata)
    {
        var header = new Dictionary<string, object> { ["__metadata__"] = metadata };
        var data = new MemoryStream();
        foreach (var (name, dtype, shape, bytes) in tensors)
        {
            header[name] = new { dtype, shape, data_offsets = new[] { data.Length, data.Length + bytes.Length } };
            data.Write(bytes);
        }

        var json = JsonSerializer.SerializeToUtf8Bytes(header);
        var file = new MemoryStream();
        file.Write(BitConverter.GetBytes((ulong)json.Length));
        file.Write(json);
        data.Position = 0;
        data.CopyTo(file);
        return file.ToArray();
    }

    private static (Dictionary<string, JsonElement> Header, byte[] Data) Parse(byte[] file)
    {
        var length = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        var header = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(file.AsSpan(8, length))!;
        return (header, file[(8 + length)..]);
    }

    private async Task<(IJobGrain Job, CheckpointRecord Record)> JobWithCheckpoint(string stem, byte[] bytes)
    {
        var id = NewJobId(stem);
        var job = fixture.Grains.GetGrain<IJobGrain>(id);
        await job.Submit(Spec());
        await job.RegisterWorker(Worker($"{id}-b"));
        await job.RegisterWorker(Worker($"{id}-a"));
        return (job, await Commit(job, 10, bytes));
    }

    private async Task<CheckpointRecord> Commit(IJobGrain job, long step, byte[] bytes)
    {
        var ticket = await job.BeginCheckpoint(new CheckpointRequest { Generation = 1, Rank = 0, Epoch = 1, GlobalStep = step });
        await File.WriteAllBytesAsync(ticket.StagingPath!, bytes);
        var commit = new CheckpointCommit(1, ticket.CheckpointId, bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        await fixture.Grains.GetGrain<ICheckpointSealerGrain>(job.GetPrimaryKeyString()).Seal(commit);
        return await job.CommitCheckpoint(commit);
    }

    private async Task<(List<WeightsChunk> Chunks, byte[] File)> Export(string jobId, string checkpointId = "")
    {
        var stream = new RecordingStreamWriter<WeightsChunk>();
        await _service.ExportWeights(new ExportWeightsRequest { JobId = jobId, CheckpointId = checkpointId }, stream, _context);
        var chunks = stream.Messages.ToList();
        return (chunks, [.. chunks.SelectMany(c => c.Data.ToByteArray())]);
    }

    [Fact]
    public async Task TheNewestCheckpointIsExportedAsPlainWeightsWithStateDictKeysAndTheSameBytes()
    {
        var (job, older) = await JobWithCheckpoint("export", CheckpointFile([1f, 2f], 3, [9f, 9f]));
        var newer = await Commit(job, 20, CheckpointFile([5f, -6f], 7, [8f, 8f]));

        var (chunks, file) = await Export(job.GetPrimaryKeyString());
        var (header, data) = Parse(file);

        Assert.Equal((newer.CheckpointId, (long)file.Length), (chunks[0].CheckpointId, chunks[0].TotalBytes));
        Assert.Equal(["__metadata__", "fc.weight", "bn.num_batches_tracked"], header.Keys);
        Assert.Equal("pt", header["__metadata__"].GetProperty("format").GetString());
        Assert.Equal("resnet18", header["__metadata__"].GetProperty("plateau.model").GetString());
        Assert.Equal(newer.CheckpointId, header["__metadata__"].GetProperty("plateau.checkpoint").GetString());
        Assert.Equal("[0,8]", header["fc.weight"].GetProperty("data_offsets").GetRawText());
        Assert.Equal("I64", header["bn.num_batches_tracked"].GetProperty("dtype").GetString());
        Assert.Equal([.. Floats([5f, -6f]), .. BitConverter.GetBytes(7L)], data);
        Assert.Equal(0, (file.Length - data.Length) % 8);
        Assert.NotEqual(older.CheckpointId, newer.CheckpointId);
    }

    [Fact]
    public async Task ANamedCheckpointIsExportedAndAnUnknownOneIsNotFoundListingTheCommittedOnes()
    {
        var (job, first) = await JobWithCheckpoint("export-named", CheckpointFile([1f], 3, [0f]));
        await Commit(job, 20, CheckpointFile([2f], 4, [0f]));

        var (_, file) = await Export(job.GetPrimaryKeyString(), first.CheckpointId);
        var missing = await Assert.ThrowsAsync<RpcException>(() => Export(job.GetPrimaryKeyString(), "ckpt-nope"));

        Assert.Equal([.. Floats([1f]), .. BitConverter.GetBytes(3L)], Parse(file).Data);
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        Assert.StartsWith($"checkpoint_id: job {job.GetPrimaryKeyString()} has no committed checkpoint 'ckpt-nope'; committed: {first.CheckpointId}, ", missing.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AJobWithoutCheckpointsAndAnUnknownJobAreNotFound()
    {
        var id = NewJobId("export-none");
        await fixture.Grains.GetGrain<IJobGrain>(id).Submit(Spec());

        var none = await Assert.ThrowsAsync<RpcException>(() => Export(id));
        // Called without the host, the handler throws the domain's exception; ApiErrorInterceptor makes it NOT_FOUND.
        var unknown = await Assert.ThrowsAsync<JobNotFoundException>(() => Export("no-such-job"));

        Assert.Equal((StatusCode.NotFound, $"job {id} has no committed checkpoint yet"), (none.StatusCode, none.Status.Detail));
        Assert.Equal("job 'no-such-job' does not exist", unknown.Message);
    }

    [Fact]
    public async Task ACorruptCheckpointOrOneThatIsNotAPlateauCheckpointIsAFailedPrecondition()
    {
        var (job, record) = await JobWithCheckpoint("export-corrupt", CheckpointFile([1f], 3, [0f]));
        var path = Path.Combine(fixture.CheckpointDirectory, job.GetPrimaryKeyString(), record.CheckpointId + ".ckpt");
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[^1] ^= 0xff;
        await File.WriteAllBytesAsync(path, bytes);
        var (other, _) = await JobWithCheckpoint("export-foreign", CheckpointFile([1f], 3, [0f], format: "something-else"));

        var corrupt = await Assert.ThrowsAsync<RpcException>(() => Export(job.GetPrimaryKeyString()));
        var foreign = await Assert.ThrowsAsync<RpcException>(() => Export(other.GetPrimaryKeyString()));

        Assert.Equal(StatusCode.FailedPrecondition, corrupt.StatusCode);
        Assert.StartsWith($"checkpoint {record.CheckpointId} of job {job.GetPrimaryKeyString()} fails verification: ", corrupt.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.FailedPrecondition, foreign.StatusCode);
        Assert.EndsWith("metadata format is 'something-else', expected 'plateau-checkpoint/1'", foreign.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFileLargerThanAChunkArrivesInSeveralChunksThatConcatenateToTheWholeFile()
    {
        var weight = Enumerable.Range(0, 700_000).Select(i => (float)i).ToArray();
        var (job, _) = await JobWithCheckpoint("export-big", CheckpointFile(weight, 1, [0f]));

        var (chunks, file) = await Export(job.GetPrimaryKeyString());

        Assert.Equal(3, chunks.Count);
        Assert.All(chunks.Skip(1), c => Assert.Equal(("", 0L), (c.CheckpointId, c.TotalBytes)));
        Assert.Equal(chunks[0].TotalBytes, file.Length);
        Assert.Equal([.. Floats(weight), .. BitConverter.GetBytes(1L)], Parse(file).Data);
    }
}
