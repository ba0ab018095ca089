namespace Plateau.Contracts.Specs;

[GenerateSerializer, Immutable, Alias("plateau.v1.DatasetSpec")]
public sealed record DatasetSpec
{
    [Id(0)] public DatasetKind? Kind { get; init; }

    /// <summary>Folder or file of the dataset; required for every kind except <see cref="DatasetKind.Synthetic"/>.</summary>
    [Id(1)] public string? Path { get; init; }

    /// <summary>Kind-specific options (e.g. synthetic sample count), passed through as text.</summary>
    [Id(2)] public IReadOnlyDictionary<string, string> Options { get; init; } = new Dictionary<string, string>();
}
