using Plateau.Contracts.Training;
using System.Diagnostics;
using Plateau.Contracts.Jobs;
using Plateau.ServiceDefaults.Telemetry;

namespace Plateau.Coordinator.Jobs;

/// <summary>What a JobGrain records on the <c>Plateau</c> meter, at the points where it already has the values.</summary>
public static class JobTelemetry
{
    public static void Progress(string jobId, JobProgress progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        PlateauMetrics.JobImagesPerSecond.Record(progress.ImagesPerSecond, Job(jobId));
    }

    public static void EpochCompleted(string jobId, EpochMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        var tags = Job(jobId);
        PlateauMetrics.JobEpoch.Record(metrics.Epoch, tags);
        PlateauMetrics.JobTrainLoss.Record(metrics.TrainLoss, tags);
        PlateauMetrics.JobTrainTop1Error.Record(metrics.TrainTop1Error, tags);
        PlateauMetrics.JobLearningRate.Record(metrics.LearningRate, tags);
        if (metrics.ValTop1Error is { } top1)
        {
            PlateauMetrics.JobValTop1Error.Record(top1, tags);
        }

        if (metrics.ValTop5Error is { } top5)
        {
            PlateauMetrics.JobValTop5Error.Record(top5, tags);
        }

        if (metrics.ValLoss is { } loss)
        {
            PlateauMetrics.JobValLoss.Record(loss, tags);
        }
    }

    public static void Decision(string jobId, LrDecisionKind kind, double newLr)
    {
        var tags = Job(jobId);
        PlateauMetrics.JobLearningRate.Record(newLr, tags);
        tags.Add(PlateauMetrics.KindTag, KindName(kind));
        PlateauMetrics.JobLrDecisions.Add(1, tags);
    }

    /// <summary>The group's size and generation, and a <c>plateau.rendezvous</c> span from the move to Rendezvous until now.</summary>
    public static void Formed(string jobId, long generation, int ranks, DateTimeOffset? rendezvousSince)
    {
        var tags = Job(jobId);
        PlateauMetrics.JobGeneration.Record(generation, tags);
        PlateauMetrics.JobRanks.Record(ranks, tags);
        Retrospective(PlateauActivities.Rendezvous, rendezvousSince, span =>
            span.SetTag(PlateauMetrics.JobIdTag, jobId).SetTag("plateau.generation", generation).SetTag("plateau.ranks", ranks));
    }

    /// <summary>The job's workers by state: training (in the formed group), waiting (registered for the next
    /// formation) and standby (beyond <c>workers.max</c>); all 0 once the job ended.</summary>
    public static void Workers(string jobId, JobState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var ended = state.Phase.IsTerminal();
        var training = state.Phase is JobPhase.Running or JobPhase.Paused ? state.Members.Select(m => m.WorkerId).Distinct(StringComparer.Ordinal).Count() : 0;
        foreach (var (name, count) in new[] { ("training", training), ("waiting", state.Registrations.Count), ("standby", state.Standby.Count) })
        {
            var tags = Job(jobId);
            tags.Add(PlateauMetrics.WorkerStateTag, name);
            PlateauMetrics.JobWorkers.Record(ended ? 0 : count, tags);
        }
    }

    public static void Restart(string jobId, long generation)
    {
        var tags = Job(jobId);
        PlateauMetrics.JobRestarts.Add(1, tags);
        PlateauMetrics.JobRanks.Record(0, tags);
        PlateauMetrics.JobGeneration.Record(generation, tags);
    }

    /// <summary>
    /// The phase gauge (1 for the new phase, 0 for the old), a <c>plateau.job.phase</c> span marking the
    /// change, and on a terminal phase the <c>plateau.job</c> span of the whole job from its creation.
    /// </summary>
    public static void Phase(string jobId, JobPhase from, JobPhase to, string reason, long generation, DateTimeOffset createdAt)
    {
        var tags = Job(jobId);
        if (from != to)
        {
            var left = tags;
            left.Add(PlateauMetrics.PhaseTag, PhaseName(from));
            PlateauMetrics.JobPhase.Record(0, left);
        }

        tags.Add(PlateauMetrics.PhaseTag, PhaseName(to));
        PlateauMetrics.JobPhase.Record(1, tags);
        using (var span = PlateauActivities.Source.StartActivity(PlateauActivities.JobPhase))
        {
            span?.SetTag(PlateauMetrics.JobIdTag, jobId)
                .SetTag("plateau.phase.from", PhaseName(from))
                .SetTag("plateau.phase.to", PhaseName(to))
                .SetTag("plateau.generation", generation)
                .SetTag("plateau.reason", reason);
        }

        if (to.IsTerminal())
        {
            PlateauMetrics.JobRanks.Record(0, Job(jobId));
            Retrospective(PlateauActivities.Job, createdAt, job =>
            {
                job.SetTag(PlateauMetrics.JobIdTag, jobId).SetTag("plateau.phase", PhaseName(to)).SetTag("plateau.generation", generation).SetTag("plateau.reason", reason);
                if (to == JobPhase.Failed)
                {
                    job.SetStatus(ActivityStatusCode.Error, reason);
                }
            });
        }
    }

    /// <summary>A root span that began at <paramref name="since"/> (known only now) and ends now; the caller's current activity is kept.</summary>
    private static void Retrospective(string name, DateTimeOffset? since, Action<Activity> describe)
    {
        var current = Activity.Current;
        Activity.Current = null;
        try
        {
            using var span = PlateauActivities.Source.StartActivity(name, ActivityKind.Internal, parentContext: default, startTime: since ?? default);
            if (span is not null)
            {
                describe(span);
            }
        }
        finally
        {
            Activity.Current = current;
        }
    }

    /// <summary>
    /// The coordinator's span for a planned epoch, returned as a W3C traceparent that travels in the plan so
    /// every rank's epoch span is its child (one trace per epoch across processes). When nothing listens
    /// here, a fresh sampled context still gives the ranks one shared trace.
    /// </summary>
    public static string EpochPlanned(string jobId, long generation, int epoch)
    {
        using var span = PlateauActivities.Source.StartActivity(PlateauActivities.EpochPlan, ActivityKind.Producer, parentContext: default);
        if (span is null)
        {
            return $"00-{ActivityTraceId.CreateRandom().ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01";
        }

        span.SetTag(PlateauMetrics.JobIdTag, jobId).SetTag("plateau.generation", generation).SetTag("plateau.epoch", epoch);
        return span.Id!;
    }

    public static string PhaseName(JobPhase phase) => phase.ToString().ToLowerInvariant();

    public static string KindName(LrDecisionKind kind) => kind switch
    {
        LrDecisionKind.WarmupDone => "warmup_done",
        _ => kind.ToString().ToLowerInvariant(),
    };

    private static TagList Job(string jobId) => new() { { PlateauMetrics.JobIdTag, jobId } };
}
