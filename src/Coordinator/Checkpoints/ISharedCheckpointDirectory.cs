namespace Plateau.Coordinator.Checkpoints;

/// <summary>
/// What only a storage that is a directory can offer: workers that mount it at the same path (one machine,
/// or one volume everywhere) write an upload in place and restore from the committed file itself, with no
/// byte through the coordinator. A storage without it leaves tickets and assignments without paths, and such
/// workers are told to set <c>Plateau:Worker:CheckpointTransferAddress</c>.
/// </summary>
public interface ISharedCheckpointDirectory
{
    /// <summary>Where a worker on this filesystem writes the unsealed upload of a begun checkpoint.</summary>
    string StagingPath(string jobId, string checkpointId);

    /// <summary>The committed checkpoint's file, for a worker on this filesystem to restore from.</summary>
    string CommittedPath(string jobId, string checkpointId);
}
