namespace Plateau.Coordinator.Jobs;

/// <summary>A rank whose own work per step took <see cref="Ratio"/> times the median of the others'.</summary>
public sealed record StragglerVerdict(int Rank, double OwnSecondsPerStep, double OthersMedianSeconds, double Ratio);
