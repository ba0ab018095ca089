namespace Plateau.Contracts.Checkpoints;

/// <summary>A begun checkpoint that will never be committed: its writer could not finish it (disk full,
/// unwritable store), or a newer checkpoint replaced it before its upload began. It never existed.</summary>
[GenerateSerializer, Immutable, Alias("plateau.CheckpointAbort")]
public sealed record CheckpointAbort(
    [property: Id(0)] long Generation,
    [property: Id(1)] string CheckpointId,
    /// <summary>What went wrong, for the job's events (e.g. "No space left on device").</summary>
    [property: Id(2)] string Reason,
    /// <summary>Failed is announced in the job's events; Superseded is not (nothing went wrong).</summary>
    [property: Id(3)] CheckpointAbortKind Kind = CheckpointAbortKind.Failed);
