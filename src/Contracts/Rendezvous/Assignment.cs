using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Specs;
using Plateau.Contracts.Training;

namespace Plateau.Contracts.Rendezvous;

/// <summary>
/// What one device (rank) trains in one generation. Rank 0 broadcasts the initial weights (or the
/// restored checkpoint's) before the first step; with <see cref="ResumeFromPeer"/> its source rank
/// broadcasts the state it kept in memory.
/// </summary>
[GenerateSerializer, Immutable, Alias("plateau.Assignment")]
public sealed record Assignment
{
    [Id(0)] public required string JobId { get; init; }
    [Id(1)] public long Generation { get; init; }
    [Id(2)] public int Rank { get; init; }
    [Id(3)] public int WorldSize { get; init; }
    /// <summary>Index of this device within its worker process.</summary>
    [Id(4)] public int LocalRank { get; init; }
    [Id(5)] public required string WorkerId { get; init; }
    [Id(6)] public required string DeviceId { get; init; }
    /// <summary>Every rank of the group, ordered by rank.</summary>
    [Id(7)] public IReadOnlyList<PeerInfo> Peers { get; init; } = [];
    /// <summary>32 random bytes per generation; peers authenticate collective traffic with it.</summary>
    [Id(8)] public byte[] CollectiveSecret { get; init; } = [];
    [Id(9)] public required JobSpec Spec { get; init; }
    [Id(10)] public required DatasetSummary Dataset { get; init; }
    /// <summary>Checkpoint to restore before training (null: fresh initialisation from the seed).</summary>
    [Id(11)] public CheckpointRecord? ResumeFrom { get; init; }
    /// <summary>Where to read <see cref="ResumeFrom"/>: a local path when the store is shared, else null.</summary>
    [Id(12)] public string? ResumePath { get; init; }
    /// <summary>The plan of the epoch to start with (cursor set when resuming mid-epoch).</summary>
    [Id(13)] public required EpochPlan FirstEpoch { get; init; }
    /// <summary>The job was paused when this generation formed: restore and sync, then wait for Resume before the first step.</summary>
    [Id(14)] public bool StartPaused { get; init; }
    /// <summary>Start from a survivor's in-memory state (then <see cref="ResumeFrom"/> is null).</summary>
    [Id(15)] public PeerStateSource? ResumeFromPeer { get; init; }
}
