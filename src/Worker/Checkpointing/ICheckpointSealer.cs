using Plateau.Contracts.Checkpoints;

namespace Plateau.Worker.Checkpointing;

/// <summary>The coordinator's sealing of an upload this worker wrote in place on a shared store (the job's
/// <see cref="ICheckpointSealerGrain"/> in a cluster): it verifies size and SHA-256 and flushes the file, so the
/// commit that follows only renames.</summary>
public interface ICheckpointSealer
{
    /// <summary>Throws <see cref="CheckpointRejectedException"/> when the staged bytes are not the commit's.</summary>
    Task SealCheckpoint(CheckpointCommit commit);
}
