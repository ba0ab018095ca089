using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Rendezvous;
using Plateau.Contracts.Training;

namespace Plateau.Coordinator.Jobs;

/// <summary>
/// Where a re-formed generation starts when survivors kept their state in memory (torchft's "lose one
/// step, not an epoch"): among the new members, the state of the generation that just ended with the
/// highest global step — any rank's copy after a completed step is the job's exact state at that step —
/// ties going to the lowest old rank, whose BN statistics are the ones rank 0's checkpoints carry. It is
/// used only when it is not older than the checkpoint the group would otherwise restore.
/// </summary>
public static class PeerStateChoice
{
    /// <summary>The source for <paramref name="members"/>, or null when the checkpoint (or scratch) is as good.</summary>
    public static PeerStateSource? Choose(string jobId, long endedGeneration, IReadOnlyList<PeerInfo> members,
        IEnumerable<WorkerRegistration> workers, CheckpointRecord? checkpoint)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(workers);
        var best = workers
            .SelectMany(w => w.Retained.Select(state => (Worker: w.WorkerId, State: state)))
            .Where(r => r.State.JobId == jobId && r.State.Generation == endedGeneration)
            .Where(r => checkpoint is null || r.State.GlobalStep >= checkpoint.GlobalStep)
            .Select(r => (r.State, Member: members.FirstOrDefault(m => m.WorkerId == r.Worker && m.DeviceId == r.State.DeviceId)))
            .Where(r => r.Member is not null)
            .OrderByDescending(r => r.State.GlobalStep)
            .ThenBy(r => r.State.Rank)
            .FirstOrDefault();
        return best.Member is null ? null : new PeerStateSource { SourceRank = best.Member.Rank, State = best.State };
    }

    /// <summary>Where training continues from <paramref name="kept"/>: its own position, or the next epoch's start
    /// when the job closed its epoch (every report in) before the group failed; null when the two disagree.</summary>
    public static (int Epoch, long Cursor, long GlobalStep)? ResumePoint(RetainedState kept, IEnumerable<EpochMetrics> closedEpochs)
    {
        ArgumentNullException.ThrowIfNull(kept);
        ArgumentNullException.ThrowIfNull(closedEpochs);
        var closed = closedEpochs.FirstOrDefault(m => m.Epoch >= kept.Epoch);
        if (closed is null)
        {
            return (kept.Epoch, kept.Cursor, kept.GlobalStep);
        }

        return closed.Epoch == kept.Epoch && closed.GlobalStep == kept.GlobalStep ? (kept.Epoch + 1, 0L, kept.GlobalStep) : null;
    }
}
