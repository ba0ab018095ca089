namespace Plateau.Contracts.Checkpoints;

/// <summary>A begun checkpoint that its writer could not finish (disk full, unwritable store): it never existed.</summary>
[GenerateSerializer, Immutable, Alias("plateau.CheckpointAbort")]
public sealed record CheckpointAbort(
    [property: Id(0)] long Generation,
    [property: Id(1)] string CheckpointId,
    /// <summary>What went wrong, for the job's events (e.g. "No space left on device").</summary>
    [property: Id(2)] string Reason);
