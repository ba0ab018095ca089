namespace Plateau.Contracts.Jobs;

/// <summary>The coordinator changed the learning rate, with its reason.</summary>
[GenerateSerializer, Immutable, Alias("plateau.LrDecisionDetail")]
public sealed record LrDecisionDetail([property: Id(0)] LrDecision Decision) : JobEventDetail;
