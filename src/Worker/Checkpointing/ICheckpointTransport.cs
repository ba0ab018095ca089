using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Rendezvous;

namespace Plateau.Worker.Checkpointing;

/// <summary>
/// How checkpoint bytes get between this worker and the coordinator's store: written in place when the store
/// is shared (<see cref="SharedStoreTransport"/>, <c>plateau local</c>), or through the coordinator's
/// CheckpointTransfer service when it is not (<see cref="NetworkTransport"/>, Kubernetes). Either way the
/// coordinator verifies size and SHA-256 and seals the upload before CommitCheckpoint can make it exist.
/// </summary>
public interface ICheckpointTransport
{
    /// <summary>Where this worker writes the checkpoint of <paramref name="ticket"/>.</summary>
    string StagingPathFor(Assignment assignment, CheckpointTicket ticket);

    /// <summary>Makes the file written at <see cref="StagingPathFor"/> the coordinator's sealed copy of the
    /// ticket's checkpoint (uploaded, or sealed in place through <paramref name="sealer"/>); throws when the
    /// coordinator has other bytes.</summary>
    void Publish(ICheckpointSealer sealer, Assignment assignment, CheckpointTicket ticket, long sizeBytes, string sha256, CancellationToken cancellationToken);

    /// <summary>The assignment's checkpoint to restore, as a file on this machine (verify it before use);
    /// disposing the result removes a local copy.</summary>
    RestoreFile Fetch(Assignment assignment, CheckpointRecord record, CancellationToken cancellationToken);
}
