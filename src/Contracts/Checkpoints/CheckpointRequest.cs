namespace Plateau.Contracts.Checkpoints;

/// <summary>Rank 0 asks to write a checkpoint; Epoch and Cursor say where training continues from it.</summary>
[GenerateSerializer, Immutable, Alias("plateau.CheckpointRequest")]
public sealed record CheckpointRequest
{
    [Id(0)] public long Generation { get; init; }
    [Id(1)] public int Rank { get; init; }
    /// <summary>The epoch to continue with (the next one after an epoch-end checkpoint).</summary>
    [Id(2)] public int Epoch { get; init; }
    /// <summary>Samples of <see cref="Epoch"/>'s order already consumed (0 after an epoch-end checkpoint).</summary>
    [Id(3)] public long Cursor { get; init; }
    [Id(4)] public long GlobalStep { get; init; }
}
