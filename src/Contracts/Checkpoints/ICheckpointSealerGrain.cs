namespace Plateau.Contracts.Checkpoints;

/// <summary>
/// Seals a checkpoint that a worker wrote in place on a shared store (key: job id): verifies its size and
/// SHA-256, flushes it to disk and gives it the sealed name that <see cref="Jobs.IJobGrain.CommitCheckpoint"/>
/// renames. It is a grain of its own so that reading the file never blocks the JobGrain; it is hosted by
/// coordinator silos only, where the store is.
/// </summary>
[Alias("plateau.ICheckpointSealerGrain")]
public interface ICheckpointSealerGrain : IGrainWithStringKey
{
    /// <summary>Throws <see cref="CheckpointRejectedException"/> (and discards the upload) when the bytes are not the commit's.</summary>
    [Alias("Seal")]
    Task Seal(CheckpointCommit commit);

    /// <summary>Removes, of the files last written before <paramref name="olderThan"/>, staging files of checkpoints
    /// not in <paramref name="pending"/> and committed files of checkpoints neither pending nor in
    /// <paramref name="committed"/> (asked by the JobGrain when it activates and after each formation).</summary>
    [Alias("Sweep")]
    Task<int> Sweep(IReadOnlyList<string> pending, IReadOnlyList<string> committed, DateTimeOffset olderThan);
}
