namespace Plateau.Contracts.Jobs;

/// <summary>A learning-rate change the coordinator made, with the reason shown to the user, e.g.
/// "val top-1 error 31.20% did not improve on 30.90% for 5 epochs → lr 0.1 → 0.01".</summary>
[GenerateSerializer, Immutable, Alias("plateau.LrDecision")]
public sealed record LrDecision(
    [property: Id(0)] int Epoch,
    [property: Id(1)] long GlobalStep,
    [property: Id(2)] double OldLr,
    [property: Id(3)] double NewLr,
    [property: Id(4)] LrDecisionKind Kind,
    [property: Id(5)] string Reason,
    [property: Id(6)] DateTimeOffset At);
