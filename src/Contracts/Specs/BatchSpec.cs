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

    /// <summary>
    /// PyTorch's <c>DataLoader(drop_last=...)</c> for the training epoch: true skips the epoch's last
    /// N mod B samples (every step a full global batch, the rule before this option existed); false trains
    /// them as one smaller last step, split across the ranks and weighted to the mean over its samples.
    /// </summary>
    [Id(2)] public bool DropLast { get; init; } = true;
}
