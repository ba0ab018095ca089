namespace Plateau.Contracts.Jobs;

/// <summary>
/// An operator's change to a running job's plateau schedule: new patience, factor or threshold (null:
/// unchanged) and/or a learning-rate drop forced at the next epoch plan. Who and why are required and
/// recorded; <see cref="At"/> is set by the coordinator.
/// </summary>
[GenerateSerializer, Immutable, Alias("plateau.ScheduleUpdate")]
public sealed record ScheduleUpdate
{
    [Id(0)] public string Operator { get; init; } = "";
    [Id(1)] public string Reason { get; init; } = "";
    [Id(2)] public int? Patience { get; init; }
    [Id(3)] public double? Factor { get; init; }
    [Id(4)] public double? Threshold { get; init; }
    /// <summary>Multiply the rate by the (new) factor at the next epoch plan.</summary>
    [Id(5)] public bool DropNow { get; init; }
    [Id(6)] public DateTimeOffset At { get; init; }
}
