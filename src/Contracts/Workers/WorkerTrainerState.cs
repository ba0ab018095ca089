namespace Plateau.Contracts.Workers;

[GenerateSerializer]
public enum WorkerTrainerState
{
    Idle,
    Starting,
    Training,
    Paused,
    Stopping,
    Stopped,
    Faulted,
}
