using Plateau.Contracts.Rendezvous;

namespace Plateau.Coordinator.Jobs;

/// <summary>
/// One decision to tell members of <paramref name="Generation"/> something. <paramref name="Rejoin"/>
/// (Stop only) asks the worker to register again for the next generation; <paramref name="Epoch"/>
/// (EpochReady only) is the epoch whose plan is ready.
/// </summary>
public sealed record MemberOrder(MemberOrderKind Kind, IReadOnlyList<PeerInfo> Members, long Generation, string Reason, bool Rejoin = false, int Epoch = 0)
{
    /// <summary>A member that cannot be told is reported as failed, except when it is being stopped anyway or the
    /// notice only saves it a recheck (EpochReady).</summary>
    public bool ReportUndelivered => Kind is not (MemberOrderKind.Stop or MemberOrderKind.EpochReady);
}
