namespace Plateau.Contracts.Checkpoints;

/// <summary>
/// Where to write an uncommitted checkpoint. With a shared local store, write the bytes to
/// <see cref="StagingPath"/> (flush), then call CommitCheckpoint with the size and SHA-256.
/// <see cref="Context"/> is what the file records about the job besides its tensors.
/// </summary>
[GenerateSerializer, Immutable, Alias("plateau.CheckpointTicket")]
public sealed record CheckpointTicket(
    [property: Id(0)] string CheckpointId,
    [property: Id(1)] long Generation,
    [property: Id(2)] string? StagingPath,
    [property: Id(3)] CheckpointContext? Context = null);
