namespace Plateau.Contracts.Jobs;

/// <summary>The job moved from one phase to another.</summary>
[GenerateSerializer, Immutable, Alias("plateau.PhaseChangeDetail")]
public sealed record PhaseChangeDetail([property: Id(0)] PhaseTransition Transition) : JobEventDetail;
