using Plateau.Contracts.Checkpoints;

namespace Plateau.Coordinator.Checkpoints;

/// <summary>Seals shared-store uploads of one job (key: job id) in the storage, so that the JobGrain's commit
/// reads no bytes, and sweeps its staging. Holds no state; non-reentrant, which keeps one job's seals
/// and sweeps in order.</summary>
public sealed class CheckpointSealerGrain(ICheckpointStorage store) : Grain, ICheckpointSealerGrain
{
    public Task Seal(CheckpointCommit commit)
    {
        ArgumentNullException.ThrowIfNull(commit);
        return store.SealAsync(this.GetPrimaryKeyString(), commit.CheckpointId, commit.SizeBytes, commit.Sha256);
    }

    public Task<int> Sweep(IReadOnlyList<string> pending, IReadOnlyList<string> committed, DateTimeOffset olderThan) =>
        Task.FromResult(store.SweepStaging(this.GetPrimaryKeyString(), pending.ToHashSet(StringComparer.Ordinal), committed.ToHashSet(StringComparer.Ordinal), olderThan));
}
