namespace Plateau.Contracts.Jobs;

/// <summary>Pending → Rendezvous → Running ⇄ Paused → Completed | Failed | Cancelled.</summary>
[GenerateSerializer]
public enum JobPhase
{
    Pending,
    Rendezvous,
    Running,
    Paused,
    Completed,
    Failed,
    Cancelled,
}
