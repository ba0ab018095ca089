using Plateau.Contracts.Training;

namespace Plateau.Contracts.Jobs;

/// <summary>An epoch completed with these metrics.</summary>
[GenerateSerializer, Immutable, Alias("plateau.EpochMetricsDetail")]
public sealed record EpochMetricsDetail([property: Id(0)] EpochMetrics Metrics) : JobEventDetail;
