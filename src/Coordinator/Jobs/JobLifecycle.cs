using System.Globalization;
using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Rendezvous;
using Plateau.Contracts.Specs;
using Plateau.Contracts.Training;

namespace Plateau.Coordinator.Jobs;

/// <summary>
/// The job's life: submit, the user's cancel / pause / resume, and failures — a failed group re-forms as
/// the next generation from the latest committed checkpoint until <c>spec.maxRestarts</c> is spent, and a
/// job-scope failure ends the job at once. Each decision queues the orders members must get.
/// </summary>
public sealed class JobLifecycle(JobContext job, JobJournal journal, ModelCheck models)
{
    private JobState S => job.State;

    public void Submit(JobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (S.Exists)
        {
            throw new JobTransitionException(job.JobId, S.Phase, "submit: a job with this id already exists");
        }

        var errors = new List<SpecError>();
        if (!JobIds.IsValid(job.JobId))
        {
            errors.Add(new SpecError("jobId", JobIds.Rule(job.JobId)));
        }

        errors.AddRange(JobSpecValidator.Validate(spec, models));
        if (errors.Count > 0)
        {
            throw new JobSpecInvalidException(errors);
        }

        S.JobId = job.JobId;
        S.Spec = spec;
        S.CreatedAt = job.Now;
        S.Generation = 1;
        S.RendezvousDeadline = job.Now + TimeSpan.FromSeconds(spec.Workers.RendezvousTimeoutSeconds);
        journal.Transition(JobPhase.Rendezvous, $"submitted; waiting for {WorkersWanted(spec)} until {Clock(S.RendezvousDeadline.Value)}");
    }

    public void Cancel(string reason)
    {
        job.EnsureExists();
        if (S.Phase.IsTerminal())
        {
            throw new JobTransitionException(job.JobId, S.Phase, "cancel");
        }

        var members = S.Members.ToList();
        var generation = S.FormedGeneration;
        journal.Transition(JobPhase.Cancelled, string.IsNullOrWhiteSpace(reason) ? "cancelled by the user" : $"cancelled: {reason}");
        EndGroup();
        job.Order(new MemberOrder(MemberOrderKind.Stop, members, generation, "job cancelled"));
    }

    public void Pause(string reason)
    {
        job.EnsureExists();
        if (S.Phase != JobPhase.Running)
        {
            throw new JobTransitionException(job.JobId, S.Phase, "pause (only a Running job can be paused)");
        }

        journal.Transition(JobPhase.Paused, string.IsNullOrWhiteSpace(reason) ? "paused by the user" : $"paused: {reason}");
        job.Order(new MemberOrder(MemberOrderKind.Pause, S.Members.ToList(), S.FormedGeneration, S.PhaseReason));
    }

    public void Resume(string reason)
    {
        job.EnsureExists();
        if (S.Phase != JobPhase.Paused)
        {
            throw new JobTransitionException(job.JobId, S.Phase, "resume (only a Paused job can be resumed)");
        }

        journal.Transition(JobPhase.Running, string.IsNullOrWhiteSpace(reason) ? "resumed by the user" : $"resumed: {reason}");
        job.Order(new MemberOrder(MemberOrderKind.Resume, S.Members.ToList(), S.FormedGeneration, S.PhaseReason));
    }

    /// <summary>A rank's failure report; ignored unless a group is running.</summary>
    public void Report(FailureReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        job.EnsureExists();
        job.EnsureFormed(report.Generation, "failure report");
        if (S.Phase is not (JobPhase.Running or JobPhase.Paused))
        {
            JobLog.Ignored(job.Logger, job.JobId, "failure report", $"job is {S.Phase}");
            return;
        }

        var failed = report.FailedRank is { } rank ? S.Members.FirstOrDefault(m => m.Rank == rank) : null;
        var who = failed is not null
            ? $"rank {failed.Rank} ({failed.WorkerId} on {failed.Host}, {report.FailedAddress ?? failed.Address}) failed"
            : report.FailedAddress is { } address ? $"peer {address} failed" : "a rank failed";
        var by = report.ReporterRank is { } reporter && reporter != report.FailedRank ? $" (reported by rank {reporter})" : "";
        if (report.Scope == FailureScope.Job)
        {
            // Re-forming cannot help (e.g. diverged gradients): fail now, keep every committed checkpoint.
            var members = S.Members.ToList();
            var generation = S.FormedGeneration;
            var reason = $"rank {report.ReporterRank?.ToString(CultureInfo.InvariantCulture) ?? "?"} stopped the job: {report.Reason}";
            journal.Add(JobEventKind.Failure, reason, new FailureDetail(report.ReporterRank, null, report.Reason));
            Fail(reason);
            job.Order(new MemberOrder(MemberOrderKind.Stop, members, generation, reason));
            return;
        }

        GroupFailed($"{who}{by}: {report.Reason}", report.FailedRank);
    }

    /// <summary>The formed group is lost: re-form as the next generation, or fail when no restarts are left.</summary>
    public void GroupFailed(string description, int? failedRank = null)
    {
        var spec = S.Spec!;
        var members = S.Members.ToList();
        var generation = S.FormedGeneration;
        journal.Add(JobEventKind.Failure, description, new FailureDetail(failedRank, null, description));
        S.Restarts++;
        JobTelemetry.Restart(job.JobId, S.Generation);
        if (S.Restarts > spec.MaxRestarts)
        {
            journal.Transition(JobPhase.Failed, $"{description}; no restarts left (maxRestarts {spec.MaxRestarts})");
            EndGroup();
            job.Order(new MemberOrder(MemberOrderKind.Stop, members, generation, S.PhaseReason));
            return;
        }

        Reform(description, members, generation, $"restart {S.Restarts} of {spec.MaxRestarts}");
    }

    /// <summary>The generation's restore checkpoint was rejected by the rank that loaded it (already dropped from
    /// the registry): the same members re-form from the checkpoint before. Nothing failed that a restart
    /// would count, and the number of checkpoints bounds how often this happens.</summary>
    public void RestoreRejected(RestoreRejection rejection)
    {
        ArgumentNullException.ThrowIfNull(rejection);
        if (S.Phase is not (JobPhase.Running or JobPhase.Paused))
        {
            JobLog.Ignored(job.Logger, job.JobId, "restore rejection", $"job is {S.Phase}");
            return;
        }

        Reform($"rank {rejection.Rank.ToString(CultureInfo.InvariantCulture)} could not restore checkpoint {rejection.CheckpointId}", S.Members.ToList(), S.FormedGeneration, "not counted as a restart");
    }

    /// <summary>spec.workers.evictStragglers: the straggler's worker leaves the job for good and the rest re-form
    /// (from the last checkpoint, not counted as a restart), unless that would leave fewer than workers.min.</summary>
    public void EvictStraggler(PeerInfo straggler, long globalStep, double ratio)
    {
        ArgumentNullException.ThrowIfNull(straggler);
        var spec = S.Spec!;
        var remaining = S.Members.Select(m => m.WorkerId).Where(w => w != straggler.WorkerId).Distinct().Count();
        if (remaining < spec.Workers.Min)
        {
            journal.Add(JobEventKind.Warning, $"worker {straggler.WorkerId} not evicted: without it {remaining} workers would remain, fewer than workers.min {spec.Workers.Min}",
                new WarningDetail(WarningKind.Straggler, straggler.Rank, globalStep, ratio));
            return;
        }

        S.Evicted.Add(straggler.WorkerId);
        var members = S.Members.ToList();
        var generation = S.FormedGeneration;
        var description = string.Create(CultureInfo.InvariantCulture,
            $"worker {straggler.WorkerId} on {straggler.Host} evicted as a straggler at step {globalStep} ({ratio:0.0}x the other ranks' own work per step; spec.workers.evictStragglers)");
        Reform(description, [.. members.Where(m => m.WorkerId != straggler.WorkerId)], generation, "not counted as a restart");
        job.Order(new MemberOrder(MemberOrderKind.Stop, [.. members.Where(m => m.WorkerId == straggler.WorkerId)], generation, description));
    }

    private void Reform(string description, List<PeerInfo> members, long generation, string count)
    {
        var spec = S.Spec!;
        S.KeepPaused = S.Phase == JobPhase.Paused;

        var from = S.Checkpoints.Count > 0 ? $"checkpoint {S.Checkpoints[^1].CheckpointId}" : "scratch (no committed checkpoint)";
        S.Generation++;
        S.FormedGeneration = 0;
        S.Members = [];
        S.Registrations = S.Standby.ToList();
        S.Standby = [];
        S.RendezvousDeadline = job.Now + TimeSpan.FromSeconds(spec.Workers.RendezvousTimeoutSeconds);
        journal.Transition(JobPhase.Rendezvous,
            $"{description}; re-forming as generation {S.Generation} from {from} ({count}); waiting for {WorkersWanted(spec)} until {Clock(S.RendezvousDeadline.Value)}");
        job.Order(new MemberOrder(MemberOrderKind.Stop, members, generation, description, Rejoin: true));
    }

    public void Fail(string reason)
    {
        journal.Transition(JobPhase.Failed, reason);
        EndGroup();
    }

    public static string WorkersWanted(JobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.Workers.Min == spec.Workers.Max ? $"{spec.Workers.Min} workers" : $"{spec.Workers.Min}–{spec.Workers.Max} workers";
    }

    public static string Clock(DateTimeOffset at) => at.UtcDateTime.ToString("HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    private void EndGroup()
    {
        S.RendezvousDeadline = null;
        S.Registrations = [];
        S.Standby = [];
    }
}
