using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Rendezvous;

namespace Plateau.Worker.Checkpointing;

/// <summary>The worker sees the coordinator's checkpoint store at the same paths (one machine, or a shared
/// volume): it writes the staging file the ticket names, has the coordinator seal it, and restores from the
/// assignment's path.</summary>
public sealed class SharedStoreTransport : ICheckpointTransport
{
    private const string Remedy = "set Plateau:Worker:CheckpointTransferAddress to the coordinator's API to move checkpoints through its CheckpointTransfer service";

    public string StagingPathFor(Assignment assignment, CheckpointTicket ticket)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        return ticket.StagingPath
            ?? throw new InvalidOperationException($"checkpoint {ticket.CheckpointId}: the coordinator gave no staging path (its checkpoint storage is not a directory workers can mount); {Remedy}");
    }

    /// <summary>The bytes are already in the coordinator's staging file: the coordinator verifies and seals them.</summary>
    public void Publish(ICheckpointSealer sealer, Assignment assignment, CheckpointTicket ticket, long sizeBytes, string sha256, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sealer);
        ArgumentNullException.ThrowIfNull(assignment);
        ArgumentNullException.ThrowIfNull(ticket);
        sealer.SealCheckpoint(new CheckpointCommit(assignment.Generation, ticket.CheckpointId, sizeBytes, sha256)).WaitAsync(cancellationToken).GetAwaiter().GetResult();
    }

    public RestoreFile Fetch(Assignment assignment, CheckpointRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        ArgumentNullException.ThrowIfNull(record);
        var path = assignment.ResumePath
            ?? throw new InvalidOperationException($"checkpoint {record.CheckpointId}: the assignment names no path (the coordinator's checkpoint storage is not a directory workers can mount); {Remedy}");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"checkpoint {record.CheckpointId}: '{path}' of the coordinator's store is not on this machine; {Remedy}", path);
        }

        return new RestoreFile(path, deleteOnDispose: false);
    }
}
