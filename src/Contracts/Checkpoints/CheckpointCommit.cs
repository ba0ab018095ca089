namespace Plateau.Contracts.Checkpoints;

[GenerateSerializer, Immutable, Alias("plateau.CheckpointCommit")]
public sealed record CheckpointCommit(
    [property: Id(0)] long Generation,
    [property: Id(1)] string CheckpointId,
    [property: Id(2)] long SizeBytes,
    /// <summary>Lower-case hex SHA-256 of the file.</summary>
    [property: Id(3)] string Sha256);
