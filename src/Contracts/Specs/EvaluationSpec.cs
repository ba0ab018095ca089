namespace Plateau.Contracts.Specs;

[GenerateSerializer, Immutable, Alias("plateau.v1.EvaluationSpec")]
public sealed record EvaluationSpec
{
    /// <summary>Evaluate on the validation set every k epochs (and always after the last one).</summary>
    [Id(0)] public int EveryEpochs { get; init; } = 1;

    /// <summary>Centre crop (default), 10-crop or the paper's multi-scale test; see docs/worker.md.</summary>
    [Id(1)] public EvaluationMode Mode { get; init; } = EvaluationMode.CenterCrop;
}
