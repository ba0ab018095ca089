using System.Globalization;
using System.Security.Cryptography;
using Plateau.Contracts.Errors;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Rendezvous;
using Plateau.Contracts.Specs;
using Plateau.Contracts.Training;
using Plateau.Coordinator.Scheduling;

namespace Plateau.Coordinator.Jobs;

/// <summary>
/// Rendezvous: checks a worker's registration, keeps it waiting or on standby, and forms the group —
/// members by <see cref="GroupFormation"/>, the restore point by <see cref="CheckpointRegistry"/>, the
/// learning rate (initial, or linearly rescaled when the global batch changed) and the first epoch plan.
/// </summary>
public sealed class WorkerRendezvous(
    JobContext job, JobJournal journal, JobLifecycle lifecycle, EpochPlanner epochs, CheckpointRegistry checkpoints, double graceSeconds)
{
    private JobState S => job.State;

    public RendezvousResult Register(WorkerRegistration registration)
    {
        ArgumentNullException.ThrowIfNull(registration);
        job.EnsureExists();
        var spec = S.Spec!;
        if (S.Phase.IsTerminal())
        {
            return Result(RendezvousStatus.Rejected, $"job is {S.Phase}: {S.PhaseReason}");
        }

        if (Problem(registration) is { } problem)
        {
            JobLog.WorkerRejected(job.Logger, job.JobId, registration.WorkerId, problem);
            return Result(RendezvousStatus.Rejected, problem);
        }

        if (S.Phase is JobPhase.Running or JobPhase.Paused)
        {
            if (S.Members.FirstOrDefault(m => m.WorkerId == registration.WorkerId) is { } member)
            {
                // A member registering again lost its trainer (process restart): the group must re-form.
                lifecycle.GroupFailed($"worker {registration.WorkerId} ({member.Address}) registered again while a member of generation {S.FormedGeneration} (restarted?)", member.Rank);
                if (S.Phase != JobPhase.Rendezvous)
                {
                    return Result(RendezvousStatus.Rejected, S.PhaseReason);
                }
            }
            else
            {
                Upsert(S.Standby, registration);
                journal.Add(JobEventKind.WorkerJoined, $"worker {registration.WorkerId} ({registration.Host}) is on standby: generation {S.FormedGeneration} is running; it joins at the next formation",
                    new MembershipDetail(S.FormedGeneration, registration.WorkerId, registration.Host, Standby: true, S.Members.Select(m => m.WorkerId).Distinct().Count(), []));
                JobLog.WorkerRegistered(job.Logger, job.JobId, registration.WorkerId, registration.Devices.Count, RendezvousStatus.Standby);
                return Result(RendezvousStatus.Standby, $"generation {S.FormedGeneration} is running with {S.Members.Select(m => m.WorkerId).Distinct().Count()} workers; you join at the next formation");
            }
        }

        Upsert(S.Registrations, registration);
        journal.Add(JobEventKind.WorkerJoined, $"worker {registration.WorkerId} ({registration.Host}, {registration.Devices.Count} devices) joined: {S.Registrations.Count} of {JobLifecycle.WorkersWanted(spec)}",
            new MembershipDetail(S.Generation, registration.WorkerId, registration.Host, Standby: false, S.Registrations.Count, []));
        if (S.Registrations.Count >= spec.Workers.Max || (S.Registrations.Count >= spec.Workers.Min && graceSeconds <= 0))
        {
            Form();
        }

        var formed = S.FormedGeneration == S.Generation && S.Phase is JobPhase.Running or JobPhase.Paused;
        var status = !formed ? RendezvousStatus.Waiting
            : S.Members.Any(m => m.WorkerId == registration.WorkerId) ? RendezvousStatus.Formed : RendezvousStatus.Standby;
        JobLog.WorkerRegistered(job.Logger, job.JobId, registration.WorkerId, registration.Devices.Count, status);
        return Result(status, status switch
        {
            RendezvousStatus.Waiting => $"{S.Registrations.Count} of {JobLifecycle.WorkersWanted(spec)} joined; waiting until {JobLifecycle.Clock(S.RendezvousDeadline ?? job.Now)}",
            RendezvousStatus.Formed => $"generation {S.Generation} formed; assignments go to your WorkerGrains",
            _ => $"generation {S.Generation} formed without you (more than workers.max, or the batch does not split); you join at the next formation",
        });
    }

    /// <summary>The rendezvous deadline passed: form with what joined, or fail when fewer than workers.min did.</summary>
    public void DeadlinePassed()
    {
        if (S.Phase != JobPhase.Rendezvous)
        {
            return;
        }

        var spec = S.Spec!;
        if (S.Registrations.Count >= spec.Workers.Min)
        {
            Form();
            return;
        }

        var joined = S.Registrations.Count == 0 ? "none" : string.Join(", ", S.Registrations.Select(r => $"{r.WorkerId} on {r.Host}"));
        lifecycle.Fail($"rendezvous for generation {S.Generation} timed out after {spec.Workers.RendezvousTimeoutSeconds.ToString(CultureInfo.InvariantCulture)} s: " +
                       $"{S.Registrations.Count} of {spec.Workers.Min} required workers joined ({joined})");
    }

    /// <summary>The grace after workers.min joined is over: form with whoever joined.</summary>
    public void GraceElapsed()
    {
        if (S.Phase == JobPhase.Rendezvous && S.Registrations.Count >= S.Spec!.Workers.Min)
        {
            Form();
        }
    }

    public void Form()
    {
        var spec = S.Spec!;
        var formation = GroupFormation.Plan(spec, S.Registrations);
        if (formation.Error is { } error)
        {
            lifecycle.Fail($"cannot form generation {S.Generation}: {error}");
            return;
        }

        var dataset = formation.Workers[0].Dataset;
        var stepsPerEpoch = EpochSteps.From(dataset.TrainSamples, 0, formation.GlobalBatch, spec.Batch.DropLast);
        if (stepsPerEpoch < 1)
        {
            lifecycle.Fail($"cannot form generation {S.Generation}: the dataset has {dataset.TrainSamples} training samples, fewer than the global batch {formation.GlobalBatch}");
            return;
        }

        var previousBatch = S.GlobalBatch;
        S.Dataset = dataset;
        S.GlobalBatch = formation.GlobalBatch;
        S.PerRankBatch = formation.PerRankBatch;
        S.StepsPerEpoch = stepsPerEpoch;
        S.TotalEpochs = spec.Epochs ?? (int)Math.Ceiling((double)spec.Iterations!.Value / stepsPerEpoch);
        var schedule = new LrSchedule(spec, S.GlobalBatch, stepsPerEpoch);

        // Where to start: a survivor's in-memory state of the generation that just ended when it is at least as
        // new as the newest checkpoint whose file is in place, else that checkpoint, else from scratch.
        var (epoch, cursor, step) = (0, 0L, 0L);
        var origin = "starting from scratch";
        S.ResumeFrom = null;
        S.ResumePath = null;
        S.ResumeFromPeer = null;
        var restore = checkpoints.ChooseRestore();
        if (PeerStateChoice.Choose(job.JobId, S.Generation - 1, formation.Members, formation.Workers, restore?.Record) is { } peer
            && PeerStateChoice.ResumePoint(peer.State, S.Metrics) is { } point)
        {
            var kept = peer.State;
            (epoch, cursor, step) = point;
            S.ResumeFromPeer = peer;
            var source = formation.Members[peer.SourceRank];
            var saved = restore is { } r ? $"checkpoint {r.Record.CheckpointId} would restart at step {r.Record.GlobalStep}" : "no checkpoint";
            origin = $"resuming from the state rank {kept.Rank} of generation {kept.Generation} ({source.WorkerId}/{source.DeviceId}) kept in memory after step {kept.GlobalStep}, " +
                     $"inside epoch {epoch} at sample {cursor} of its order; only the step in flight is lost ({saved})";
        }
        else if (restore is { } chosen)
        {
            var (record, path) = chosen;
            (epoch, cursor, step) = (record.Epoch, record.Cursor, record.GlobalStep);
            S.ResumeFrom = record;
            S.ResumePath = path;
            S.Scheduler = record.Scheduler ?? S.Scheduler;
            origin = record.Cursor > 0
                ? $"resuming from checkpoint {record.CheckpointId} inside epoch {record.Epoch} at sample {record.Cursor} of its order (step {record.GlobalStep})"
                : $"resuming from checkpoint {record.CheckpointId} (epoch {record.Epoch}, step {record.GlobalStep})";
            // Epochs after the checkpoint are trained again; their old metrics no longer describe the model.
            var undone = S.Metrics.Where(m => m.Epoch >= record.Epoch).Select(m => m.Epoch).ToList();
            if (undone.Count > 0)
            {
                S.Metrics.RemoveAll(m => m.Epoch >= record.Epoch);
                journal.Add(JobEventKind.EpochMetrics, $"metrics of epochs {string.Join(", ", undone.Distinct())} discarded: those epochs are trained again from checkpoint {record.CheckpointId}");
            }
        }

        if (S.ResumeFrom is null && S.ResumeFromPeer is null)
        {
            S.Scheduler = ReduceLrOnPlateau.Initial(schedule.ScaledLr);
            S.EpochReports.Clear();
            epochs.RecordDecision(0, 0, spec.Optimizer.Lr, schedule.ScaledLr, LrDecisionKind.Initial, schedule.DescribeInitial());
        }
        else if (previousBatch != 0 && previousBatch != S.GlobalBatch && spec.Schedule.LinearScaling is not null)
        {
            var old = S.Scheduler.Lr;
            S.Scheduler = S.Scheduler with { Lr = old * S.GlobalBatch / previousBatch };
            epochs.RecordDecision(epoch, step, old, S.Scheduler.Lr, LrDecisionKind.Initial,
                $"global batch {previousBatch} → {S.GlobalBatch} (linear scaling) → lr {ReduceLrOnPlateau.Lr(old)} → {ReduceLrOnPlateau.Lr(S.Scheduler.Lr)}");
        }

        S.Members = formation.Members.ToList();
        S.Registrations = [];
        foreach (var leftover in formation.Leftover)
        {
            Upsert(S.Standby, leftover);
        }

        S.CollectiveSecret = RandomNumberGenerator.GetBytes(32);
        S.FormedGeneration = S.Generation;
        JobTelemetry.Formed(job.JobId, S.Generation, S.Members.Count, S.Transitions.LastOrDefault(t => t.To == JobPhase.Rendezvous)?.At);
        S.RendezvousDeadline = null;
        S.EpochReports.Clear();
        checkpoints.ForgetPending();
        S.CurrentPlan = epochs.BuildPlan(epoch, cursor, step);
        S.FormationPlan = S.CurrentPlan;
        var workerIds = formation.Workers.Select(w => w.WorkerId).ToList();
        journal.Add(JobEventKind.GroupFormed, $"generation {S.Generation}: ranks {string.Join(", ", S.Members.Select(m => $"{m.Rank}={m.WorkerId}/{m.DeviceId}"))}",
            new MembershipDetail(S.Generation, null, null, Standby: false, workerIds.Count, S.Members.ToList()));
        journal.Transition(JobPhase.Running,
            $"generation {S.Generation} formed with {workerIds.Count} workers ({string.Join(", ", workerIds)}), {S.Members.Count} ranks, " +
            $"global batch {S.GlobalBatch} = {S.Members.Count} × {S.PerRankBatch}; {origin}");
        if (S.KeepPaused)
        {
            S.KeepPaused = false;
            journal.Transition(JobPhase.Paused, $"still paused: the job was paused before generation {S.Generation} formed; resume it to continue");
        }

        job.Order(new MemberOrder(MemberOrderKind.StartTraining, S.Members.ToList(), S.FormedGeneration, origin));
    }

    /// <summary>What a member trains with in the formed generation (null for anyone else).</summary>
    public Assignment? AssignmentFor(string workerId, string deviceId)
    {
        job.EnsureExists();
        var member = S.FormedGeneration == 0 ? null : S.Members.FirstOrDefault(m => m.WorkerId == workerId && m.DeviceId == deviceId);
        return member is null ? null : AssignmentFor(member);
    }

    public Assignment AssignmentFor(PeerInfo member)
    {
        ArgumentNullException.ThrowIfNull(member);
        return new Assignment
        {
            JobId = job.JobId,
            Generation = S.FormedGeneration,
            Rank = member.Rank,
            WorldSize = S.Members.Count,
            LocalRank = member.LocalRank,
            WorkerId = member.WorkerId,
            DeviceId = member.DeviceId,
            Peers = S.Members.ToList(),
            CollectiveSecret = S.CollectiveSecret,
            Spec = S.Spec!,
            Dataset = S.Dataset!,
            ResumeFrom = S.ResumeFrom,
            ResumePath = S.ResumePath,
            ResumeFromPeer = S.ResumeFromPeer,
            FirstEpoch = S.FormationPlan!,
            StartPaused = S.Phase == JobPhase.Paused,
        };
    }

    /// <summary>Why a registration cannot join this job, or null when it can.</summary>
    public string? Problem(WorkerRegistration r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var spec = S.Spec!;
        if (string.IsNullOrWhiteSpace(r.WorkerId) || r.WorkerId.Contains('/', StringComparison.Ordinal))
        {
            return $"workerId must be non-empty and without '/', got {Quote.Value(r.WorkerId)}";
        }

        if (S.Evicted.Contains(r.WorkerId))
        {
            return $"worker {r.WorkerId} was evicted from this job as a straggler (spec.workers.evictStragglers) and is not admitted again";
        }

        if (string.IsNullOrWhiteSpace(r.Host))
        {
            return $"worker {r.WorkerId}: host is required";
        }

        if (!Uri.TryCreate(r.DataPlaneAddress, UriKind.Absolute, out _))
        {
            return $"worker {r.WorkerId}: dataPlaneAddress must be an absolute URI (http://host:port), got {Quote.Value(r.DataPlaneAddress)}";
        }

        if (r.Devices is null || r.Devices.Count < spec.Workers.DevicesPerWorker)
        {
            return $"worker {r.WorkerId} offers {r.Devices?.Count ?? 0} devices but the job needs devicesPerWorker {spec.Workers.DevicesPerWorker}";
        }

        if (r.Devices.Select(d => d.DeviceId).Distinct().Count() != r.Devices.Count)
        {
            return $"worker {r.WorkerId} lists a device id twice";
        }

        if (r.Dataset is null || r.Dataset.TrainSamples < 1)
        {
            return $"worker {r.WorkerId} found no training samples in the dataset ({spec.Dataset.Kind} {spec.Dataset.Path})";
        }

        foreach (var kept in r.Retained ?? [])
        {
            if (kept is null || r.Devices.All(d => d.DeviceId != kept.DeviceId))
            {
                return $"worker {r.WorkerId}: retained state names device {Quote.Value(kept?.DeviceId)}, which the worker does not list";
            }

            if (kept.Rank < 0 || kept.Epoch < 0 || kept.Cursor < 0 || kept.GlobalStep < 1 || kept.Generation < 1)
            {
                return $"worker {r.WorkerId}: retained state of device {Quote.Value(kept.DeviceId)} has a negative rank, epoch or cursor, or no completed step or generation";
            }
        }

        var reference = S.Dataset is not null && S.FormedGeneration != 0
            ? (Source: "the running group", Dataset: S.Dataset)
            : S.Registrations.Concat(S.Standby).Where(o => o.WorkerId != r.WorkerId).Select(o => (Source: $"worker {o.WorkerId}", o.Dataset)).FirstOrDefault();
        if (reference.Dataset is { } seen && seen != r.Dataset)
        {
            return $"dataset mismatch: worker {r.WorkerId} sees {r.Dataset.TrainSamples} train / {r.Dataset.ValidationSamples} validation samples, {r.Dataset.Classes} classes; " +
                   $"{reference.Source} sees {seen.TrainSamples} / {seen.ValidationSamples}, {seen.Classes} classes";
        }

        return null;
    }

    private RendezvousResult Result(RendezvousStatus status, string message) => new()
    {
        Status = status,
        Generation = S.Generation,
        Deadline = S.RendezvousDeadline,
        JoinedWorkers = S.Phase == JobPhase.Rendezvous ? S.Registrations.Count : S.Members.Select(m => m.WorkerId).Distinct().Count(),
        MinWorkers = S.Spec?.Workers.Min ?? 0,
        MaxWorkers = S.Spec?.Workers.Max ?? 0,
        Message = message,
    };

    private static void Upsert(List<WorkerRegistration> list, WorkerRegistration registration)
    {
        list.RemoveAll(r => r.WorkerId == registration.WorkerId);
        list.Add(registration);
    }
}
