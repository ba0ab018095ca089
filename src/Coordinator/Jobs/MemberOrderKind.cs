namespace Plateau.Coordinator.Jobs;

/// <summary>What the coordinator tells a member's WorkerGrain.</summary>
public enum MemberOrderKind
{
    StartTraining,
    Pause,
    Resume,
    Stop,
    /// <summary>The next epoch's plan is ready, or the job finished.</summary>
    EpochReady,
}
