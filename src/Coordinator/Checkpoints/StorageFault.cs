namespace Plateau.Coordinator.Checkpoints;

/// <summary>Why the storage refused a commit or found a committed checkpoint unfit.</summary>
public enum StorageFault
{
    None,

    /// <summary>No upload to commit, or no committed checkpoint of that id.</summary>
    Missing,

    /// <summary>The upload is there but its size and SHA-256 were never verified.</summary>
    NotSealed,

    WrongSize,

    WrongSha256,

    AlreadyCommitted,
}
