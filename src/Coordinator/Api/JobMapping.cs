using Google.Protobuf.WellKnownTypes;
using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Specs;
using Plateau.Contracts.Training;
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
        job.Transitions.AddRange(s.Transitions.Select(t => t.ToProto()));
        job.LrDecisions.AddRange(s.LrDecisions.Select(d => d.ToProto()));
        job.MetricsHistory.AddRange(s.MetricsHistory.Select(m => m.ToProto()));
        job.ScheduleUpdates.AddRange(s.ScheduleUpdates.Select(u => u.ToProto()));
        return job;
    }

    public static Proto.Transition ToProto(this PhaseTransition t) => new()
    {
        From = t.From.ToProto(),
        To = t.To.ToProto(),
        Reason = t.Reason,
        At = Timestamp.FromDateTimeOffset(t.At),
        Generation = t.Generation,
    };

    public static Proto.LrDecision ToProto(this LrDecision d) => new()
    {
        Epoch = d.Epoch,
        GlobalStep = d.GlobalStep,
        OldLr = d.OldLr,
        NewLr = d.NewLr,
        Kind = Snake(d.Kind.ToString()),
        Reason = d.Reason,
        At = Timestamp.FromDateTimeOffset(d.At),
    };

    public static Proto.ScheduleUpdate ToProto(this ScheduleUpdate u)
    {
        var proto = new Proto.ScheduleUpdate { Operator = u.Operator, Reason = u.Reason, DropNow = u.DropNow, At = Timestamp.FromDateTimeOffset(u.At) };
        if (u.Patience is { } patience)
        {
            proto.Patience = patience;
        }

        if (u.Factor is { } factor)
        {
            proto.Factor = factor;
        }

        if (u.Threshold is { } threshold)
        {
            proto.Threshold = threshold;
        }

        return proto;
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

    public static Proto.RankThroughput ToProto(this RankThroughput r)
    {
        var proto = new Proto.RankThroughput
        {
            Rank = r.Rank,
            WorkerId = r.WorkerId,
            Host = r.Host,
            Epoch = r.Epoch,
            GlobalStep = r.GlobalStep,
            ImagesPerSecond = r.ImagesPerSecond,
            OwnSecondsPerStep = r.OwnSecondsPerStep,
            DataWaitShare = r.DataWaitShare,
            AllReduceShare = r.AllReduceShare,
            Loss = r.Loss,
            ReportedAt = Timestamp.FromDateTimeOffset(r.ReportedAt),
        };
        if (r.StragglerRatio is { } ratio)
        {
            proto.StragglerRatio = ratio;
        }

        return proto;
    }

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

    public static Proto.Checkpoint ToProto(this CheckpointRecord c) => new Proto.Checkpoint()
    {
        CheckpointId = c.CheckpointId,
        Generation = c.Generation,
        Epoch = c.Epoch,
        Cursor = c.Cursor,
        GlobalStep = c.GlobalStep,
        SizeBytes = c.SizeBytes,
        Sha256 = c.Sha256,
        CommittedAt = Timestamp.FromDateTimeOffset(c.CommittedAt),
        Pinned = c.Pinned,
    }.WithMetric(c.Metric);

    private static Proto.Checkpoint WithMetric(this Proto.Checkpoint proto, double? metric)
    {
        if (metric is { } value)
        {
            proto.Metric = value;
        }

        return proto;
    }

    public static Proto.JobEvent ToProto(this JobEvent e)
    {
        var proto = new Proto.JobEvent
        {
            Sequence = e.Sequence,
            At = Timestamp.FromDateTimeOffset(e.At),
            Kind = Snake(e.Kind.ToString()),
            Type = e.Kind.ToProto(),
            Message = e.Message,
            Phase = e.Phase.ToProto(),
            Generation = e.Generation,
        };
        switch (e.Detail)
        {
            case PhaseChangeDetail d:
                proto.PhaseChange = d.Transition.ToProto();
                break;
            case MembershipDetail d:
                proto.Membership = new Proto.Membership
                {
                    Generation = d.Generation,
                    WorkerId = d.WorkerId ?? "",
                    Host = d.Host ?? "",
                    Standby = d.Standby,
                    JoinedWorkers = d.JoinedWorkers,
                };
                proto.Membership.Members.AddRange(d.Members.Select(m => new Proto.Member { Rank = m.Rank, WorkerId = m.WorkerId, DeviceId = m.DeviceId, Host = m.Host }));
                break;
            case EpochMetricsDetail d:
                proto.EpochMetrics = d.Metrics.ToProto();
                break;
            case LrDecisionDetail d:
                proto.LrDecision = d.Decision.ToProto();
                break;
            case CheckpointCommittedDetail d:
                proto.CheckpointCommitted = d.Checkpoint.ToProto();
                break;
            case WarningDetail d:
                proto.Warning = new Proto.Warning
                {
                    Kind = d.Kind switch
                    {
                        WarningKind.NonFiniteSteps => Proto.WarningKind.NonFiniteSteps,
                        WarningKind.Straggler => Proto.WarningKind.Straggler,
                        _ => Proto.WarningKind.Unspecified,
                    },
                    GlobalStep = d.GlobalStep,
                    Value = d.Value,
                };
                if (d.Rank is { } rank)
                {
                    proto.Warning.Rank = rank;
                }

                break;
            case FailureDetail d:
                proto.Failure = new Proto.Failure { CheckpointId = d.CheckpointId ?? "", Reason = d.Reason };
                if (d.Rank is { } failed)
                {
                    proto.Failure.Rank = failed;
                }

                break;
            case ScheduleUpdatedDetail d:
                proto.ScheduleUpdated = d.Update.ToProto();
                break;
        }

        return proto;
    }

    public static Proto.EventType ToProto(this JobEventKind kind) => kind switch
    {
        JobEventKind.Transition => Proto.EventType.Transition,
        JobEventKind.WorkerJoined => Proto.EventType.WorkerJoined,
        JobEventKind.GroupFormed => Proto.EventType.GroupFormed,
        JobEventKind.Progress => Proto.EventType.Progress,
        JobEventKind.EpochMetrics => Proto.EventType.EpochMetrics,
        JobEventKind.LrDecision => Proto.EventType.LrDecision,
        JobEventKind.CheckpointCommitted => Proto.EventType.CheckpointCommitted,
        JobEventKind.Failure => Proto.EventType.Failure,
        JobEventKind.Warning => Proto.EventType.Warning,
        JobEventKind.ScheduleUpdated => Proto.EventType.ScheduleUpdated,
        _ => Proto.EventType.Unspecified,
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
