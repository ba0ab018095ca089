namespace Plateau.Contracts.Jobs;

/// <summary>One persisted state change and why it happened.</summary>
[GenerateSerializer, Immutable, Alias("plateau.PhaseTransition")]
public sealed record PhaseTransition(
    [property: Id(0)] JobPhase From,
    [property: Id(1)] JobPhase To,
    [property: Id(2)] string Reason,
    [property: Id(3)] DateTimeOffset At,
    [property: Id(4)] long Generation);
