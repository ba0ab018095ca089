namespace Plateau.Contracts.Jobs;

[GenerateSerializer]
public enum LrDecisionKind
{
    /// <summary>The initial rate (base lr, linear scaling applied).</summary>
    Initial,
    WarmupDone,
    Plateau,
    Milestone,
    /// <summary>A drop an operator forced (UpdateSchedule), with who and why.</summary>
    Operator,
}
