using Plateau.Contracts.Checkpoints;
using Plateau.Coordinator.Checkpoints;

namespace Plateau.Coordinator.Tests.Checkpoints;

/// <summary>The directory backend seen only through <see cref="ICheckpointStorage"/>, as a storage that workers
/// cannot mount (an object store) would be: no <see cref="ISharedCheckpointDirectory"/>.</summary>
internal sealed class StorageWithoutSharedDirectory(ICheckpointStorage inner) : ICheckpointStorage
{
    public void BeginUpload(string jobId, string checkpointId) => inner.BeginUpload(jobId, checkpointId);

    public Task<SealedUpload> ReceiveAsync(string jobId, string checkpointId, long offset, IAsyncEnumerable<ReadOnlyMemory<byte>> chunks, CancellationToken cancellationToken = default) =>
        inner.ReceiveAsync(jobId, checkpointId, offset, chunks, cancellationToken);

    public UploadProgress UploadStatus(string jobId, string checkpointId) => inner.UploadStatus(jobId, checkpointId);

    public Task SealAsync(string jobId, string checkpointId, long expectedSize, string expectedSha256, CancellationToken cancellationToken = default) =>
        inner.SealAsync(jobId, checkpointId, expectedSize, expectedSha256, cancellationToken);

    public StorageOutcome Commit(string jobId, string checkpointId, long expectedSize, string expectedSha256) =>
        inner.Commit(jobId, checkpointId, expectedSize, expectedSha256);

    public StorageOutcome Check(string jobId, CheckpointRecord record) => inner.Check(jobId, record);

    public Task<Stream> OpenReadAsync(string jobId, string checkpointId, CancellationToken cancellationToken = default) =>
        inner.OpenReadAsync(jobId, checkpointId, cancellationToken);

    public void Delete(string jobId, string checkpointId) => inner.Delete(jobId, checkpointId);

    public void DiscardUpload(string jobId, string checkpointId) => inner.DiscardUpload(jobId, checkpointId);

    public int SweepStaging(string jobId, IReadOnlySet<string> pending, IReadOnlySet<string> committed, DateTimeOffset olderThan) => inner.SweepStaging(jobId, pending, committed, olderThan);
}
