using Plateau.Contracts.Checkpoints;

namespace Plateau.Coordinator.Checkpoints;

/// <summary>The newest checkpoint that is in place with its size, and the newer ones that are not (with why).</summary>
public sealed record RestoreChoice(CheckpointRecord? Record, IReadOnlyList<(CheckpointRecord Record, string Problem)> Rejected)
{
    /// <summary>Walks <paramref name="committed"/> (oldest first) from the newest with stats only; the SHA-256 is
    /// the restoring worker's to verify, so a formation never waits for a checkpoint to be read.</summary>
    public static RestoreChoice Choose(ICheckpointStorage storage, string jobId, IReadOnlyList<CheckpointRecord> committed)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(committed);
        var rejected = new List<(CheckpointRecord, string)>();
        for (var i = committed.Count - 1; i >= 0; i--)
        {
            var check = storage.Check(jobId, committed[i]);
            if (check.IsSound)
            {
                return new RestoreChoice(committed[i], rejected);
            }

            rejected.Add((committed[i], check.Problem));
        }

        return new RestoreChoice(null, rejected);
    }
}
