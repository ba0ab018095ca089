namespace Plateau.Contracts.Specs;

/// <summary>
/// Warmup at the start of training. Linear (Goyal et al.): per step from StartFactor × lr to lr.
/// Constant (ResNet-110 on CIFAR): StartFactor × lr until the end of warmup, then lr.
/// Length in epochs or iterations, exactly one.
/// </summary>
[GenerateSerializer, Immutable, Alias("plateau.v1.WarmupSpec")]
public sealed record WarmupSpec
{
    [Id(0)] public WarmupKind Kind { get; init; } = WarmupKind.Linear;

    [Id(1)] public double? Epochs { get; init; }

    [Id(2)] public long? Iterations { get; init; }

    /// <summary>
    /// Fraction of the target rate to start from. Default: the inverse of the linear scaling factor when
    /// linear scaling is on (start at the unscaled base rate), otherwise 0.1.
    /// </summary>
    [Id(3)] public double? StartFactor { get; init; }
}
