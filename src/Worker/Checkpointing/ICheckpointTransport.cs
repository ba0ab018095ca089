using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Rendezvous;

namespace Plateau.Worker.Checkpointing;

/// <summary>
/// How checkpoint bytes get between this worker and the coordinator's store: written in place when the store
/// is shared (<see cref="SharedStoreTransport"/>, <c>plateau local</c>), or through the coordinator's
/// CheckpointTransfer service when it is not (<see cref="NetworkTransport"/>, Kubernetes). Either way the
/// coordinator verifies size and SHA-256 before the checkpoint exists (CommitCheckpoint).
/// </summary>
public interface ICheckpointTransport
{
    /// <summary>Where this worker writes the checkpoint of <paramref name="ticket"/>.</summary>
    string StagingPathFor(Assignment assignment, CheckpointTicket ticket);

    /// <summary>Makes the file written at <see cref="StagingPathFor"/> the coordinator's staged copy of the
    /// ticket's checkpoint; throws when the coordinator received other bytes.</summary>
    void Publish(Assignment assignment, CheckpointTicket ticket, long sizeBytes, string sha256, CancellationToken cancellationToken);

    /// <summary>The assignment's checkpoint to restore, as a file on this machine (verify it before use);
    /// disposing the result removes a local copy.</summary>
    RestoreFile Fetch(Assignment assignment, CheckpointRecord record, CancellationToken cancellationToken);
}
