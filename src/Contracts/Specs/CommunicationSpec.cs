namespace Plateau.Contracts.Specs;

/// <summary>The data plane's settings that change what a job computes, so they belong to its spec.</summary>
[GenerateSerializer, Immutable, Alias("plateau.v1.CommunicationSpec")]
public sealed record CommunicationSpec
{
    /// <summary>Element encoding of gradients on the wire (<c>none</c>, <c>bf16</c>, <c>fp16</c>).</summary>
    [Id(0)] public GradientCompression Compression { get; init; } = GradientCompression.None;

    /// <summary>Flat ring over every device, or local sums then a ring over workers (<c>auto</c>, <c>flat</c>, <c>hierarchical</c>).</summary>
    [Id(1)] public GradientReduction Reduction { get; init; } = GradientReduction.Auto;

    /// <summary>Whether the ranks of a worker with <paramref name="devicesPerWorker"/> devices reduce through the hierarchy.</summary>
    public bool IsHierarchical(int devicesPerWorker) => Reduction switch
    {
        GradientReduction.Hierarchical => true,
        GradientReduction.Flat => false,
        _ => devicesPerWorker > 1,
    };
}
