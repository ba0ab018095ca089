using Plateau.Contracts.Rendezvous;

namespace Plateau.Coordinator.Jobs;

/// <summary>
/// One decision to tell members of <paramref name="Generation"/> something. <paramref name="Rejoin"/>
/// (Stop only) asks the worker to register again for the next generation.
/// </summary>
public sealed record MemberOrder(MemberOrderKind Kind, IReadOnlyList<PeerInfo> Members, long Generation, string Reason, bool Rejoin = false)
{
    /// <summary>A member that cannot be told is reported as failed, except when it is being stopped anyway.</summary>
    public bool ReportUndelivered => Kind != MemberOrderKind.Stop;
}
