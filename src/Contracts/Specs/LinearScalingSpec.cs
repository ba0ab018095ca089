namespace Plateau.Contracts.Specs;

/// <summary>Linear scaling rule: lr = base lr × global batch / <see cref="BaseBatch"/>.</summary>
[GenerateSerializer, Immutable, Alias("plateau.v1.LinearScalingSpec")]
public sealed record LinearScalingSpec
{
    [Id(0)] public int BaseBatch { get; init; } = 256;
}
