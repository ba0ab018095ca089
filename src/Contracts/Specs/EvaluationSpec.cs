namespace Plateau.Contracts.Specs;

[GenerateSerializer, Immutable, Alias("plateau.v1.EvaluationSpec")]
public sealed record EvaluationSpec
{
    /// <summary>Evaluate on the validation set every k epochs (and always after the last one).</summary>
    [Id(0)] public int EveryEpochs { get; init; } = 1;
}
