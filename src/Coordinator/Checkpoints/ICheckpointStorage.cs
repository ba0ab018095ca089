using Plateau.Contracts.Checkpoints;

namespace Plateau.Coordinator.Checkpoints;

/// <summary>
/// Where committed checkpoints live, stated as the transaction of DESIGN.md invariant 5 and nothing about
/// paths: an upload is received (or written by someone else and then sealed) under the SHA-256 of its bytes,
/// committed by a move that reads no byte, and read back as a stream. The directory backend
/// (<see cref="DirectoryCheckpointStorage"/>) is the one there is; an object store would map an upload to a
/// multipart upload of a staging key (parts, then complete under the hash) and the commit to a conditional
/// copy of that key to the committed one followed by a delete.
/// Ids are job and checkpoint ids (letters, digits, '-', '_', '.'); anything else is an <see cref="ArgumentException"/>.
/// </summary>
public interface ICheckpointStorage
{
    /// <summary>Makes room for a new upload of this checkpoint: any earlier one, partial or sealed, is discarded.</summary>
    void BeginUpload(string jobId, string checkpointId);

    /// <summary>Stores the chunks as they arrive, hashing them, and seals what arrived under its hash. Offset 0
    /// starts over; a larger one continues an upload of which at least that many bytes are held
    /// (<see cref="UploadStatus"/>), the held prefix being hashed again. A broken stream keeps what arrived.
    /// Throws <see cref="CheckpointRejectedException"/> for an offset beyond what is held, and
    /// <see cref="UploadInProgressException"/> while another stream is writing the same upload.</summary>
    Task<SealedUpload> ReceiveAsync(string jobId, string checkpointId, long offset, IAsyncEnumerable<ReadOnlyMemory<byte>> chunks, CancellationToken cancellationToken = default);

    /// <summary>How much of an upload is held: sealed (its size and hash), or the bytes of an unfinished one.</summary>
    UploadProgress UploadStatus(string jobId, string checkpointId);

    /// <summary>Verifies an unsealed upload someone else wrote against the size and SHA-256 its writer gives,
    /// makes it durable and seals it. Throws <see cref="CheckpointRejectedException"/> (and discards the
    /// upload) when it does not match. Reads every byte: never inside a grain turn.</summary>
    Task SealAsync(string jobId, string checkpointId, long expectedSize, string expectedSha256, CancellationToken cancellationToken = default);

    /// <summary>Moves the upload sealed under exactly this hash and size to the committed checkpoint. Reads no
    /// byte, so the JobGrain calls it in its turn. Any outcome but success discards the upload, except
    /// <see cref="StorageFault.AlreadyCommitted"/>, which touches nothing.</summary>
    StorageOutcome Commit(string jobId, string checkpointId, long expectedSize, string expectedSha256);

    /// <summary>Whether the committed checkpoint is there with the record's size (metadata only, no byte read).</summary>
    StorageOutcome Check(string jobId, CheckpointRecord record);

    /// <summary>The committed checkpoint's bytes: a read-only, seekable stream (an object store serves one with
    /// ranged reads). Throws an <see cref="IOException"/> when it is not there.</summary>
    Task<Stream> OpenReadAsync(string jobId, string checkpointId, CancellationToken cancellationToken = default);

    /// <summary>Removes a committed checkpoint and any upload of it.</summary>
    void Delete(string jobId, string checkpointId);

    /// <summary>Removes what an abandoned upload left, if anything.</summary>
    void DiscardUpload(string jobId, string checkpointId);

    /// <summary>Removes, of what was last written before <paramref name="olderThan"/>, uploads of checkpoints not in
    /// <paramref name="pending"/> (writers that died, generations that ended) and committed files of checkpoints
    /// neither pending nor in <paramref name="committed"/> (a coordinator that died between a commit's rename and
    /// its record: the record is the commit). Returns how many went.</summary>
    int SweepStaging(string jobId, IReadOnlySet<string> pending, IReadOnlySet<string> committed, DateTimeOffset olderThan);
}
