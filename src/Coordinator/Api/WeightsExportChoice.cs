using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Errors;

namespace Plateau.Coordinator.Api;

/// <summary>Which committed checkpoint an export reads.</summary>
internal static class WeightsExportChoice
{
    /// <summary>The newest of <paramref name="committed"/> (oldest first) when <paramref name="checkpointId"/>
    /// is empty, else that one; NOT_FOUND naming what exists otherwise.</summary>
    public static CheckpointRecord Choose(string jobId, IReadOnlyList<CheckpointRecord> committed, string? checkpointId)
    {
        if (committed.Count == 0)
        {
            throw new Grpc.Core.RpcException(new Grpc.Core.Status(Grpc.Core.StatusCode.NotFound, $"job {jobId} has no committed checkpoint yet"));
        }

        if (string.IsNullOrEmpty(checkpointId))
        {
            return committed[^1];
        }

        return committed.LastOrDefault(c => c.CheckpointId == checkpointId)
            ?? throw new Grpc.Core.RpcException(new Grpc.Core.Status(Grpc.Core.StatusCode.NotFound,
                $"checkpoint_id: job {jobId} has no committed checkpoint {Quote.Value(checkpointId)}; committed: {string.Join(", ", committed.Select(c => c.CheckpointId))}"));
    }
}
