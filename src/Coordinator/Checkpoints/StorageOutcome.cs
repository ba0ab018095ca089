namespace Plateau.Coordinator.Checkpoints;

/// <summary>The storage's answer to a commit or a check: <see cref="StorageFault.None"/>, or the fault with
/// what a person reads about it.</summary>
public sealed record StorageOutcome(StorageFault Fault, string Problem)
{
    public static StorageOutcome Sound { get; } = new(StorageFault.None, "");

    public bool IsSound => Fault == StorageFault.None;
}
