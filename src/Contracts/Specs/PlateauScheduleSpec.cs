namespace Plateau.Contracts.Specs;

/// <summary>torch.optim.lr_scheduler.ReduceLROnPlateau, stepped by the coordinator on each evaluation.</summary>
[GenerateSerializer, Immutable, Alias("plateau.v1.PlateauScheduleSpec")]
public sealed record PlateauScheduleSpec
{
    [Id(0)] public PlateauMetric Metric { get; init; } = PlateauMetric.ValTop1Error;

    /// <summary>Defaults to the metric's natural direction (min for errors and losses, max for accuracies).</summary>
    [Id(1)] public PlateauMode? Mode { get; init; }

    [Id(2)] public double Factor { get; init; } = 0.1;

    [Id(3)] public int Patience { get; init; } = 10;

    [Id(4)] public double Threshold { get; init; } = 1e-4;

    [Id(5)] public ThresholdMode ThresholdMode { get; init; } = ThresholdMode.Rel;

    [Id(6)] public int Cooldown { get; init; }

    [Id(7)] public double MinLr { get; init; }

    /// <summary>Changes smaller than this are ignored (PyTorch's eps).</summary>
    [Id(8)] public double Eps { get; init; } = 1e-8;
}
