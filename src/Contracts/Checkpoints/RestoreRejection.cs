namespace Plateau.Contracts.Checkpoints;

/// <summary>The checkpoint a generation was told to restore did not verify on the rank that loaded it (its
/// bytes are not the committed ones): the job drops it and re-forms from the one before.</summary>
[GenerateSerializer, Immutable, Alias("plateau.RestoreRejection")]
public sealed record RestoreRejection(
    [property: Id(0)] long Generation,
    [property: Id(1)] string CheckpointId,
    [property: Id(2)] int Rank,
    /// <summary>What did not match, e.g. "has SHA-256 …, the registry says …".</summary>
    [property: Id(3)] string Problem);
