namespace Plateau.Contracts.Specs;

/// <summary>
/// Batch sizes. With <see cref="Global"/> alone the global batch is fixed and split evenly across the
/// ranks (world sizes that do not divide it are not used). With <see cref="PerDevice"/> alone each
/// rank takes that many samples and the global batch grows with the world size (use linear scaling).
/// With both, the world size is pinned to Global / PerDevice.
/// </summary>
[GenerateSerializer, Immutable, Alias("plateau.v1.BatchSpec")]
public sealed record BatchSpec
{
    [Id(0)] public int? Global { get; init; }

    [Id(1)] public int? PerDevice { get; init; }
}
