using Google.Protobuf.WellKnownTypes;
using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Specs;
using Proto = Plateau.Protos.V1;

namespace Plateau.Coordinator.Api;

/// <summary>Contracts → protobuf messages of plateau.v1.</summary>
internal static class JobMapping
{
    public static Proto.Job ToProto(this JobSummary s)
    {
        var job = new Proto.Job
        {
            JobId = s.JobId,
            Phase = s.Phase.ToProto(),
            PhaseReason = s.PhaseReason,
            SpecJson = JobSpecJson.Serialize(s.Spec),
            Generation = s.Generation,
            WorldSize = s.WorldSize,
            Epoch = s.Epoch,
            TotalEpochs = s.TotalEpochs,
            GlobalStep = s.GlobalStep,
            LearningRate = s.LearningRate,
            Restarts = s.Restarts,
            Progress = s.Progress?.ToProto(),
            LatestMetrics = s.LatestMetrics?.ToProto(),
            BestMetrics = s.BestMetrics?.ToProto(),
            LatestCheckpoint = s.LatestCheckpoint?.ToProto(),
            CreatedAt = Timestamp.FromDateTimeOffset(s.CreatedAt),
            UpdatedAt = Timestamp.FromDateTimeOffset(s.UpdatedAt),
        };
        job.Transitions.AddRange(s.Transitions.Select(t => new Proto.Transition
        {
            From = t.From.ToProto(),
            To = t.To.ToProto(),
            Reason = t.Reason,
            At = Timestamp.FromDateTimeOffset(t.At),
            Generation = t.Generation,
        }));
        job.LrDecisions.AddRange(s.LrDecisions.Select(d => new Proto.LrDecision
        {
            Epoch = d.Epoch,
            GlobalStep = d.GlobalStep,
            OldLr = d.OldLr,
            NewLr = d.NewLr,
            Kind = Snake(d.Kind.ToString()),
            Reason = d.Reason,
            At = Timestamp.FromDateTimeOffset(d.At),
        }));
        job.MetricsHistory.AddRange(s.MetricsHistory.Select(m => m.ToProto()));
        return job;
    }

    public static Proto.Progress ToProto(this JobProgress p) => new()
    {
        Epoch = p.Epoch,
        GlobalStep = p.GlobalStep,
        StepsInEpoch = p.StepsInEpoch,
        ImagesPerSecond = p.ImagesPerSecond,
        Loss = p.Loss,
        DataWaitShare = p.DataWaitShare,
        AllReduceShare = p.AllReduceShare,
        LearningRate = p.LearningRate,
        At = Timestamp.FromDateTimeOffset(p.At),
    };

    public static Proto.EpochMetrics ToProto(this EpochMetrics m)
    {
        var proto = new Proto.EpochMetrics
        {
            Epoch = m.Epoch,
            GlobalStep = m.GlobalStep,
            TrainLoss = m.TrainLoss,
            TrainTop1Error = m.TrainTop1Error,
            TrainSamples = m.TrainSamples,
            ValSamples = m.ValSamples,
            LearningRate = m.LearningRate,
            At = Timestamp.FromDateTimeOffset(m.At),
        };
        proto.RankImagesPerSecond.AddRange(m.RankImagesPerSecond.Values);
        if (m.ValTop1Error is { } top1)
        {
            proto.ValTop1Error = top1;
        }

        if (m.ValTop5Error is { } top5)
        {
            proto.ValTop5Error = top5;
        }

        if (m.ValLoss is { } loss)
        {
            proto.ValLoss = loss;
        }

        return proto;
    }

    public static Proto.Checkpoint ToProto(this CheckpointRecord c) => new()
    {
        CheckpointId = c.CheckpointId,
        Generation = c.Generation,
        Epoch = c.Epoch,
        Cursor = c.Cursor,
        GlobalStep = c.GlobalStep,
        SizeBytes = c.SizeBytes,
        Sha256 = c.Sha256,
        CommittedAt = Timestamp.FromDateTimeOffset(c.CommittedAt),
    };

    public static Proto.JobEvent ToProto(this JobEvent e) => new()
    {
        Sequence = e.Sequence,
        At = Timestamp.FromDateTimeOffset(e.At),
        Kind = Snake(e.Kind.ToString()),
        Message = e.Message,
        Phase = e.Phase.ToProto(),
        Generation = e.Generation,
    };

    public static Proto.JobPhase ToProto(this JobPhase phase) => phase switch
    {
        JobPhase.Pending => Proto.JobPhase.Pending,
        JobPhase.Rendezvous => Proto.JobPhase.Rendezvous,
        JobPhase.Running => Proto.JobPhase.Running,
        JobPhase.Paused => Proto.JobPhase.Paused,
        JobPhase.Completed => Proto.JobPhase.Completed,
        JobPhase.Failed => Proto.JobPhase.Failed,
        JobPhase.Cancelled => Proto.JobPhase.Cancelled,
        _ => Proto.JobPhase.Unspecified,
    };

    /// <summary>The domain phase of a proto phase; null for UNSPECIFIED and unknown numbers.</summary>
    public static JobPhase? FromProto(this Proto.JobPhase phase) => phase switch
    {
        Proto.JobPhase.Pending => JobPhase.Pending,
        Proto.JobPhase.Rendezvous => JobPhase.Rendezvous,
        Proto.JobPhase.Running => JobPhase.Running,
        Proto.JobPhase.Paused => JobPhase.Paused,
        Proto.JobPhase.Completed => JobPhase.Completed,
        Proto.JobPhase.Failed => JobPhase.Failed,
        Proto.JobPhase.Cancelled => JobPhase.Cancelled,
        _ => null,
    };

    private static string Snake(string pascal) =>
        string.Concat(pascal.Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
