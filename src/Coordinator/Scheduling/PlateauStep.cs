using Plateau.Contracts.Jobs;
using Plateau.Contracts.Training;

namespace Plateau.Coordinator.Scheduling;

/// <summary>The outcome of one plateau step; <see cref="Reason"/> is set only when the rate changed.</summary>
public sealed record PlateauStep(PlateauSchedulerState State, double OldLr, double NewLr, string? Reason)
{
    public bool Reduced => Reason is not null;
}
