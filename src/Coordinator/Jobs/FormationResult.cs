using Plateau.Contracts.Rendezvous;

namespace Plateau.Coordinator.Jobs;

public sealed record FormationResult(
    IReadOnlyList<PeerInfo> Members,
    IReadOnlyList<WorkerRegistration> Workers,
    IReadOnlyList<WorkerRegistration> Leftover,
    int GlobalBatch,
    int PerRankBatch,
    string? Error)
{
    public static FormationResult Fail(string error) => new([], [], [], 0, 0, error);
}
