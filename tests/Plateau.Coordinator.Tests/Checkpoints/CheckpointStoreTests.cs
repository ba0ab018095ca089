using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Plateau.Contracts.Checkpoints;
using Plateau.Coordinator.Checkpoints;

namespace Plateau.Coordinator.Tests.Checkpoints;

public sealed class CheckpointStoreTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("plateau-ckpt-").FullName;
    private readonly CheckpointStore _store;

    public CheckpointStoreTests() =>
        _store = new CheckpointStore(Options.Create(new CheckpointStoreOptions { RootDirectory = _root }), NullLogger<CheckpointStore>.Instance);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private async Task<CheckpointRecord> Commit(string id, byte[] bytes)
    {
        await _store.WriteUploadAsync("job-a", id, new MemoryStream(bytes));
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        await _store.CommitAsync("job-a", id, bytes.Length, sha);
        return new CheckpointRecord { CheckpointId = id, SizeBytes = bytes.Length, Sha256 = sha };
    }

    [Fact]
    public async Task CommitRenamesAVerifiedUploadIntoPlace()
    {
        var record = await Commit("ckpt-1", [1, 2, 3, 4]);

        Assert.True(File.Exists(_store.CommittedPath("job-a", "ckpt-1")));
        Assert.False(File.Exists(_store.StagingPath("job-a", "ckpt-1")));
        Assert.Null(await _store.VerifyAsync("job-a", record));
    }

    [Fact]
    public async Task WrongSizeIsRejectedAndTheUploadDiscarded()
    {
        await _store.WriteUploadAsync("job-a", "ckpt-1", new MemoryStream([1, 2, 3]));

        var error = await Assert.ThrowsAsync<CheckpointRejectedException>(() => _store.CommitAsync("job-a", "ckpt-1", 4, new string('0', 64)));

        Assert.Equal("checkpoint ckpt-1: size is 3 bytes, expected 4; upload discarded", error.Message);
        Assert.False(File.Exists(_store.StagingPath("job-a", "ckpt-1")));
        Assert.False(File.Exists(_store.CommittedPath("job-a", "ckpt-1")));
    }

    [Fact]
    public async Task WrongChecksumIsRejected()
    {
        await _store.WriteUploadAsync("job-a", "ckpt-1", new MemoryStream([1, 2, 3]));

        var error = await Assert.ThrowsAsync<CheckpointRejectedException>(() => _store.CommitAsync("job-a", "ckpt-1", 3, new string('0', 64)));

        Assert.Contains("SHA-256 is 039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81, expected 0000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RestoreFallsBackToThePreviousCommittedCheckpointWhenTheNewestIsCorrupt()
    {
        var older = await Commit("ckpt-1", [1, 1, 1]);
        var newer = await Commit("ckpt-2", [2, 2, 2]);
        await File.WriteAllBytesAsync(_store.CommittedPath("job-a", "ckpt-2"), [9, 9, 9]);

        var choice = await _store.ChooseRestoreAsync("job-a", [older, newer]);

        Assert.Equal("ckpt-1", choice.Record!.CheckpointId);
        var (record, problem) = Assert.Single(choice.Rejected);
        Assert.Equal("ckpt-2", record.CheckpointId);
        Assert.StartsWith("SHA-256 is", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RestoreFindsNothingWhenEveryCheckpointIsMissing()
    {
        var only = await Commit("ckpt-1", [1]);
        File.Delete(_store.CommittedPath("job-a", "ckpt-1"));

        var choice = await _store.ChooseRestoreAsync("job-a", [only]);

        Assert.Null(choice.Record);
        Assert.EndsWith("is missing", Assert.Single(choice.Rejected).Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void PathTraversalInIdsIsRefused() =>
        Assert.Throws<ArgumentException>(() => _store.BeginUpload("../etc", "ckpt-1"));
}
