using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Plateau.Contracts.Checkpoints;
using Plateau.Coordinator.Checkpoints;
using Plateau.Coordinator.Tests.Jobs;

namespace Plateau.Coordinator.Tests.Checkpoints;

public sealed class DirectoryCheckpointStorageTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("plateau-ckpt-").FullName;
    private readonly DirectoryCheckpointStorage _store;

    public DirectoryCheckpointStorageTests() =>
        _store = new DirectoryCheckpointStorage(Options.Create(new CheckpointStoreOptions { RootDirectory = _root }), NullLogger<DirectoryCheckpointStorage>.Instance);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static string Sha(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private async Task<CheckpointRecord> Commit(string id, byte[] bytes)
    {
        await _store.WriteUploadAsync("job-a", id, new MemoryStream(bytes));
        await _store.SealAsync("job-a", id, bytes.Length, Sha(bytes));
        Assert.Equal(StorageOutcome.Sound, _store.Commit("job-a", id, bytes.Length, Sha(bytes)));
        return new CheckpointRecord { CheckpointId = id, SizeBytes = bytes.Length, Sha256 = Sha(bytes) };
    }

    private static async IAsyncEnumerable<ReadOnlyMemory<byte>> Chunks(byte[] bytes, int size, Exception? breakAfterFirst = null)
    {
        for (var i = 0; i < bytes.Length; i += size)
        {
            await Task.Yield();
            yield return bytes.AsMemory(i, Math.Min(size, bytes.Length - i));
            if (breakAfterFirst is not null)
            {
                throw breakAfterFirst;
            }
        }
    }

    private async Task<byte[]> ReadCommitted(string id)
    {
        await using var reader = await _store.OpenReadAsync("job-a", id);
        using var copy = new MemoryStream();
        await reader.CopyToAsync(copy);
        return copy.ToArray();
    }

    private Task<StorageOutcome> Verify(CheckpointRecord record) => CheckpointVerification.VerifyAsync(_store, "job-a", record);

    private string[] StagingFiles() => Directory.GetFiles(Path.Combine(_root, "job-a", "staging")).Select(Path.GetFileName).ToArray()!;

    [Fact]
    public async Task ASealedUploadIsCommittedByARename()
    {
        var record = await Commit("ckpt-1", [1, 2, 3, 4]);

        Assert.True(File.Exists(_store.CommittedPath("job-a", "ckpt-1")));
        Assert.Empty(StagingFiles());
        Assert.True((await Verify(record)).IsSound);
    }

    [Fact]
    public async Task SealingAWrongSizeRejectsAndDiscardsTheUpload()
    {
        await _store.WriteUploadAsync("job-a", "ckpt-1", new MemoryStream([1, 2, 3]));

        var error = await Assert.ThrowsAsync<CheckpointRejectedException>(() => _store.SealAsync("job-a", "ckpt-1", 4, new string('0', 64)));

        Assert.Equal("checkpoint ckpt-1: size is 3 bytes, expected 4; upload discarded", error.Message);
        Assert.Empty(StagingFiles());
        Assert.False(File.Exists(_store.CommittedPath("job-a", "ckpt-1")));
    }

    [Fact]
    public async Task SealingAWrongChecksumIsRejected()
    {
        await _store.WriteUploadAsync("job-a", "ckpt-1", new MemoryStream([1, 2, 3]));

        var error = await Assert.ThrowsAsync<CheckpointRejectedException>(() => _store.SealAsync("job-a", "ckpt-1", 3, new string('0', 64)));

        Assert.Contains("SHA-256 is 039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81, expected 0000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnsealedUploadIsNotCommitted()
    {
        byte[] bytes = [1, 2, 3];
        await _store.WriteUploadAsync("job-a", "ckpt-1", new MemoryStream(bytes));

        var outcome = _store.Commit("job-a", "ckpt-1", 3, Sha(bytes));

        Assert.Equal(new StorageOutcome(StorageFault.NotSealed, "the upload was never sealed (its size and SHA-256 were not verified)"), outcome);
        Assert.False(File.Exists(_store.CommittedPath("job-a", "ckpt-1")));
        Assert.Empty(StagingFiles());
    }

    [Fact]
    public async Task AReceivedUploadIsSealedUnderTheHashOfWhatArrivedAndCommitsOnlyWithThatHash()
    {
        var bytes = RandomNumberGenerator.GetBytes(300_000);

        var (size, sha) = await _store.ReceiveAsync("job-a", "ckpt-1", 0, Chunks(bytes, 65_536));

        Assert.Equal((300_000L, Sha(bytes)), (size, sha));
        Assert.Equal([$"ckpt-1.{sha}.sealed"], StagingFiles());
        var other = _store.Commit("job-a", "ckpt-1", size, new string('0', 64));
        Assert.Equal(new StorageOutcome(StorageFault.WrongSha256, $"SHA-256 is {sha}, expected {new string('0', 64)}"), other);
        Assert.Empty(StagingFiles());
    }

    [Fact]
    public async Task AReceivedUploadCommitsAndReadsBackIntact()
    {
        var bytes = RandomNumberGenerator.GetBytes(300_000);
        var (size, sha) = await _store.ReceiveAsync("job-a", "ckpt-1", 0, Chunks(bytes, 65_536));

        Assert.True(_store.Commit("job-a", "ckpt-1", size, sha).IsSound);

        Assert.Equal(bytes, await ReadCommitted("ckpt-1"));
    }

    [Fact]
    public async Task AnUploadBrokenMidStreamKeepsWhatArrivedUnsealedAndTheRestContinuesIt()
    {
        var bytes = RandomNumberGenerator.GetBytes(10_000);
        var broken = new IOException("connection reset");

        var error = await Assert.ThrowsAsync<IOException>(() => _store.ReceiveAsync("job-a", "ckpt-1", 0, Chunks(bytes, 4_000, broken)));

        Assert.Same(broken, error);
        Assert.Equal(new UploadProgress(4_000, InProgress: false, SealedSha256: null), _store.UploadStatus("job-a", "ckpt-1"));
        Assert.Equal(StorageFault.NotSealed, _store.Commit("job-a", "ckpt-1", 4_000, Sha(bytes[..4_000])).Fault);
    }

    [Fact]
    public async Task AContinuedUploadHashesTheHeldBytesWithTheRestAndSealsTheWholeFile()
    {
        var bytes = RandomNumberGenerator.GetBytes(10_000);
        await Assert.ThrowsAsync<IOException>(() => _store.ReceiveAsync("job-a", "ckpt-1", 0, Chunks(bytes, 6_000, new IOException("reset"))));

        // The worker resends from 4,000 (it learnt less than the store holds): bytes past the offset are replaced.
        var (size, sha) = await _store.ReceiveAsync("job-a", "ckpt-1", 4_000, Chunks(bytes[4_000..], 3_000));

        Assert.Equal((10_000L, Sha(bytes)), (size, sha));
        Assert.Equal(new UploadProgress(10_000, InProgress: false, SealedSha256: sha), _store.UploadStatus("job-a", "ckpt-1"));
        Assert.True(_store.Commit("job-a", "ckpt-1", size, sha).IsSound);
        Assert.Equal(bytes, await ReadCommitted("ckpt-1"));
    }

    [Fact]
    public async Task AnUploadCannotContinueBeyondWhatTheStoreHolds()
    {
        await Assert.ThrowsAsync<IOException>(() => _store.ReceiveAsync("job-a", "ckpt-1", 0, Chunks([1, 2, 3, 4], 2, new IOException("reset"))));

        var error = await Assert.ThrowsAsync<CheckpointRejectedException>(() => _store.ReceiveAsync("job-a", "ckpt-1", 3, Chunks([4], 1)));

        Assert.Equal("checkpoint ckpt-1: cannot continue the upload at byte 3: the coordinator holds 2 bytes of it (ask UploadStatus, or start over at 0)", error.Message);
        Assert.Equal(2, _store.UploadStatus("job-a", "ckpt-1").Bytes);
    }

    [Fact]
    public async Task ASecondStreamForAnUploadStillBeingReceivedIsTurnedAway()
    {
        var release = new TaskCompletionSource();
        async IAsyncEnumerable<ReadOnlyMemory<byte>> Held()
        {
            yield return new byte[] { 1, 2 };
            await release.Task;
        }

        var first = _store.ReceiveAsync("job-a", "ckpt-1", 0, Held());
        await JobTestKit.Eventually(() => Task.FromResult(_store.UploadStatus("job-a", "ckpt-1")), p => p.InProgress, "the first stream under way");

        await Assert.ThrowsAsync<UploadInProgressException>(() => _store.ReceiveAsync("job-a", "ckpt-1", 2, Chunks([3], 1)));
        release.SetResult();
        Assert.Equal(2, (await first).SizeBytes);
    }

    [Fact]
    public async Task BeginningAnUploadAgainDiscardsAnEarlierSealedOne()
    {
        var (size, sha) = await _store.ReceiveAsync("job-a", "ckpt-1", 0, Chunks([1, 2, 3], 3));

        _store.BeginUpload("job-a", "ckpt-1");

        Assert.Empty(StagingFiles());
        Assert.Equal(StorageFault.Missing, _store.Commit("job-a", "ckpt-1", size, sha).Fault);
    }

    [Fact]
    public async Task ASweepRemovesOnlyOldUploadsOfCheckpointsThatAreNoLongerPending()
    {
        await _store.WriteUploadAsync("job-a", "ckpt-dead", new MemoryStream([1]));
        await _store.ReceiveAsync("job-a", "ckpt-dead-sealed", 0, Chunks([2], 1));
        await _store.WriteUploadAsync("job-a", "ckpt-pending", new MemoryStream([3]));
        var committed = await Commit("ckpt-committed", [4]);
        var sweptAt = DateTimeOffset.UtcNow.AddSeconds(5); // every file above was written before
        await _store.WriteUploadAsync("job-a", "ckpt-new", new MemoryStream([5]));
        File.SetLastWriteTimeUtc(_store.StagingPath("job-a", "ckpt-new"), sweptAt.UtcDateTime.AddSeconds(1)); // begun after the sweep was asked for

        var swept = _store.SweepStaging("job-a", new HashSet<string> { "ckpt-pending" }, new HashSet<string> { "ckpt-committed" }, sweptAt);

        Assert.Equal(2, swept);
        Assert.Equal(["ckpt-new.partial", "ckpt-pending.partial"], StagingFiles().Order());
        Assert.True((await Verify(committed)).IsSound);
    }

    [Fact]
    public async Task ASweepRemovesACommittedFileTheRegistryNeverRecordedAndKeepsRecordedPendingAndNewerOnes()
    {
        var recorded = await Commit("ckpt-recorded", [1]);
        await Commit("ckpt-unrecorded", [2]); // renamed, then the coordinator died before recording it
        await Commit("ckpt-pending", [3]);
        var sweptAt = DateTimeOffset.UtcNow.AddSeconds(5);
        await Commit("ckpt-newer", [4]);
        File.SetLastWriteTimeUtc(_store.CommittedPath("job-a", "ckpt-newer"), sweptAt.UtcDateTime.AddSeconds(1)); // committed after the sweep was asked for

        var swept = _store.SweepStaging("job-a", new HashSet<string> { "ckpt-pending" }, new HashSet<string> { "ckpt-recorded" }, sweptAt);

        Assert.Equal(1, swept);
        Assert.False(File.Exists(_store.CommittedPath("job-a", "ckpt-unrecorded")));
        Assert.True((await Verify(recorded)).IsSound);
        Assert.True(File.Exists(_store.CommittedPath("job-a", "ckpt-pending")));
        Assert.True(File.Exists(_store.CommittedPath("job-a", "ckpt-newer")));
    }

    [Fact]
    public async Task RestorePassesOverANewestCheckpointWhoseSizeChangedWithoutReadingTheRest()
    {
        var older = await Commit("ckpt-1", [1, 1, 1]);
        var newer = await Commit("ckpt-2", [2, 2, 2]);
        await File.WriteAllBytesAsync(_store.CommittedPath("job-a", "ckpt-2"), [9, 9]);
        // Same size, other bytes: the restore choice does not hash (the restoring worker does).
        await File.WriteAllBytesAsync(_store.CommittedPath("job-a", "ckpt-1"), [7, 7, 7]);

        var choice = RestoreChoice.Choose(_store, "job-a", [older, newer]);

        Assert.Equal("ckpt-1", choice.Record!.CheckpointId);
        var (record, problem) = Assert.Single(choice.Rejected);
        Assert.Equal(("ckpt-2", "size is 2 bytes, expected 3"), (record.CheckpointId, problem));
    }

    [Fact]
    public async Task RestoreFindsNothingWhenEveryCheckpointIsMissing()
    {
        var only = await Commit("ckpt-1", [1]);
        File.Delete(_store.CommittedPath("job-a", "ckpt-1"));

        var choice = RestoreChoice.Choose(_store, "job-a", [only]);

        Assert.Null(choice.Record);
        Assert.EndsWith("is missing", Assert.Single(choice.Rejected).Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExportVerificationStillHashesTheCommittedFile()
    {
        var record = await Commit("ckpt-1", [1, 2, 3]);
        await File.WriteAllBytesAsync(_store.CommittedPath("job-a", "ckpt-1"), [3, 2, 1]);

        var outcome = await Verify(record);

        Assert.Equal(StorageFault.WrongSha256, outcome.Fault);
        Assert.StartsWith("SHA-256 is", outcome.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AReaderOpenedOnACommittedCheckpointReturnsItsExactBytesFromAnyOffset()
    {
        var bytes = RandomNumberGenerator.GetBytes(200_000);
        await Commit("ckpt-1", bytes);

        await using var reader = await _store.OpenReadAsync("job-a", "ckpt-1");
        reader.Position = 150_000; // export reads tensor ranges at their offsets
        var tail = new byte[50_000];
        await reader.ReadExactlyAsync(tail);

        Assert.Equal(bytes, await ReadCommitted("ckpt-1"));
        Assert.Equal(bytes[150_000..], tail);
    }

    [Fact]
    public async Task ACheckpointCommittedAlreadyIsNotReplacedByASecondCommitOfItsId()
    {
        await Commit("ckpt-1", [1, 2, 3]);
        var again = await _store.ReceiveAsync("job-a", "ckpt-1", 0, Chunks([4, 5, 6], 3));

        var outcome = _store.Commit("job-a", "ckpt-1", again.SizeBytes, again.Sha256);

        Assert.Equal(StorageFault.AlreadyCommitted, outcome.Fault);
        Assert.Equal([1, 2, 3], await ReadCommitted("ckpt-1"));
    }

    [Fact]
    public async Task ACheckOnlyStatsTheCommittedCheckpoint()
    {
        var record = await Commit("ckpt-1", [1, 2, 3]);
        await File.WriteAllBytesAsync(_store.CommittedPath("job-a", "ckpt-1"), [3, 2, 1]);

        Assert.True(_store.Check("job-a", record).IsSound); // same size, other bytes: a check reads none
        Assert.Equal(StorageFault.Missing, _store.Check("job-a", record with { CheckpointId = "ckpt-2" }).Fault);
    }

    [Fact]
    public void PathTraversalInIdsIsRefused() =>
        Assert.Throws<ArgumentException>(() => _store.BeginUpload("../etc", "ckpt-1"));
}
