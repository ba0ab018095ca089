namespace Plateau.Coordinator.Checkpoints;

[GenerateSerializer, Immutable, Alias("plateau.CheckpointAccessDecision")]
public sealed record CheckpointAccessDecision(
    [property: Id(0)] CheckpointAccessVerdict Verdict,
    [property: Id(1)] string Reason)
{
    public static CheckpointAccessDecision Allowed { get; } = new(CheckpointAccessVerdict.Allowed, "");
}
