namespace Plateau.Contracts.Specs;

/// <summary>A model from the Plateau.Models registry by name (e.g. <c>se_resnet20_cifar</c>, <c>resnet50</c>).</summary>
[GenerateSerializer, Immutable, Alias("plateau.v1.ModelSpec")]
public sealed record ModelSpec
{
    [Id(0)] public string Name { get; init; } = "";

    /// <summary>Registry-specific options (e.g. <c>se_reduction: 16</c>), passed through as text.</summary>
    [Id(1)] public IReadOnlyDictionary<string, string> Options { get; init; } = new Dictionary<string, string>();
}
