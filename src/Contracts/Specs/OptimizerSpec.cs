namespace Plateau.Contracts.Specs;

/// <summary>SGD with momentum as in torch.optim.SGD (weight decay added to the gradient).</summary>
[GenerateSerializer, Immutable, Alias("plateau.v1.OptimizerSpec")]
public sealed record OptimizerSpec
{
    /// <summary>Base learning rate, before linear scaling and warmup.</summary>
    [Id(0)] public double Lr { get; init; } = 0.1;

    [Id(1)] public double Momentum { get; init; } = 0.9;

    [Id(2)] public double WeightDecay { get; init; } = 1e-4;

    [Id(3)] public bool Nesterov { get; init; }
}
