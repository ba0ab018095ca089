namespace Plateau.Contracts.Specs;

/// <summary>The data plane's settings that change what a job computes, so they belong to its spec.</summary>
[GenerateSerializer, Immutable, Alias("plateau.v1.CommunicationSpec")]
public sealed record CommunicationSpec
{
    /// <summary>Element encoding of gradients on the wire (<c>none</c>, <c>bf16</c>, <c>fp16</c>).</summary>
    [Id(0)] public GradientCompression Compression { get; init; } = GradientCompression.None;
}
