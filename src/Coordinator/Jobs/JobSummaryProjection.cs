using Plateau.Contracts.Jobs;

namespace Plateau.Coordinator.Jobs;

/// <summary>The read model of a job: what <c>GetJob</c>, <c>ListJobs</c> and watchers see.</summary>
public static class JobSummaryProjection
{
    public static JobSummary Of(JobState s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return new JobSummary
        {
            JobId = s.JobId,
            Spec = s.Spec!,
            Phase = s.Phase,
            PhaseReason = s.PhaseReason,
            Generation = s.Generation,
            WorldSize = s.Members.Count,
            Epoch = s.CurrentPlan?.Epoch ?? 0,
            GlobalStep = s.Progress?.GlobalStep ?? s.CurrentPlan?.StartGlobalStep ?? 0,
            LearningRate = s.CurrentPlan is { } plan ? plan.LearningRateAt(Math.Max(plan.StartGlobalStep, s.Progress?.GlobalStep ?? plan.StartGlobalStep)) : s.Scheduler.Lr,
            Restarts = s.Restarts,
            Progress = s.Progress,
            LatestMetrics = s.Metrics.LastOrDefault(),
            BestMetrics = s.Metrics.Where(m => m.ValTop1Error is not null).MinBy(m => m.ValTop1Error),
            Transitions = s.Transitions.ToList(),
            LrDecisions = s.LrDecisions.ToList(),
            LatestCheckpoint = s.Checkpoints.LastOrDefault(),
            CreatedAt = s.CreatedAt,
            UpdatedAt = s.UpdatedAt,
            MetricsHistory = s.Metrics.ToList(),
            TotalEpochs = s.TotalEpochs != 0 ? s.TotalEpochs : s.Spec?.Epochs ?? 0,
            Plateau = s.PlateauOverride ?? s.Spec?.Schedule.Plateau,
            ScheduleUpdates = s.ScheduleUpdates.ToList(),
        };
    }

    /// <summary>What the worker pool sees of a job: the workers it holds are those registered for the formation,
    /// the formed group's members and those on standby.</summary>
    public static JobStaffing StaffingOf(JobState s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return new JobStaffing
        {
            JobId = s.JobId,
            Phase = s.Phase,
            CreatedAt = s.CreatedAt,
            MaxWorkers = s.Spec?.Workers.Max ?? 0,
            DevicesPerWorker = s.Spec?.Workers.DevicesPerWorker ?? 1,
            Workers = s.Registrations.Select(r => r.WorkerId)
                .Concat(s.Members.Select(m => m.WorkerId))
                .Concat(s.Standby.Select(r => r.WorkerId))
                .Distinct(StringComparer.Ordinal)
                .Order(StringComparer.Ordinal)
                .ToList(),
        };
    }
}
