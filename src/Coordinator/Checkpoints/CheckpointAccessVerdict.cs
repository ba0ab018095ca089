namespace Plateau.Coordinator.Checkpoints;

[GenerateSerializer]
public enum CheckpointAccessVerdict
{
    Allowed,
    UnknownJob,
    UnknownCheckpoint,
    StaleGeneration,
    BadToken,
}
