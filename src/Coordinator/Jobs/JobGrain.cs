using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Rendezvous;
using Plateau.Contracts.Specs;
using Plateau.Contracts.Training;
using Plateau.Contracts.Workers;
using Plateau.Coordinator.Checkpoints;
using Plateau.Coordinator.Hosting;
using Plateau.Coordinator.Scheduling;
using Plateau.Contracts.Errors;

namespace Plateau.Coordinator.Jobs;

/// <summary>
/// One training job: the state machine, rendezvous, epoch plans, the central learning-rate schedule and
/// the checkpoint registry. Every change is persisted before anyone is told about it; messages from a
/// generation other than the formed one are refused with <see cref="StaleGenerationException"/>.
/// Pushes to WorkerGrains run after the turn that decided them (never awaited inside it), so a worker
/// calling the job at the same time cannot deadlock against it.
/// </summary>
public sealed partial class JobGrain(
    [PersistentState("job", JobGrain.StorageName)] IPersistentState<JobState> state,
    CheckpointStore checkpointStore,
    IOptions<CoordinatorOptions> coordinatorOptions,
    TimeProvider time,
    IServiceProvider services,
    ILogger<JobGrain> logger) : Grain, IJobGrain, ICheckpointAuthority
{
    /// <summary>The grain storage every coordinator grain uses.</summary>
    public const string StorageName = "plateau";

    private const int MaxEvents = 2000;
    private readonly CoordinatorOptions _options = coordinatorOptions.Value;
    private readonly Dictionary<int, ProgressReport> _progress = [];
    private readonly Dictionary<int, DateTimeOffset> _lastSeen = [];
    private readonly StragglerDetector _stragglers = new();
    private IGrainTimer? _deadlineTimer;
    private IGrainTimer? _graceTimer;
    private IGrainTimer? _livenessTimer;

    private JobState S => state.State;

    private string JobId => this.GetPrimaryKeyString();

    private DateTimeOffset Now => time.GetUtcNow();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        switch (S.Phase)
        {
            case JobPhase.Rendezvous:
                ArmRendezvousTimers();
                break;
            case JobPhase.Running or JobPhase.Paused:
                StartLiveness();
                break;
        }

        return Task.CompletedTask;
    }

    // ---------------------------------------------------------------- user operations

    public async Task<JobSummary> Submit(JobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (S.Exists)
        {
            throw new JobTransitionException(JobId, S.Phase, "submit: a job with this id already exists");
        }

        var errors = new List<SpecError>();
        if (!JobIds.IsValid(JobId))
        {
            errors.Add(new SpecError("jobId", JobIds.Rule(JobId)));
        }

        errors.AddRange(JobSpecValidator.Validate(spec, ModelCheck()));
        if (errors.Count > 0)
        {
            throw new JobSpecInvalidException(errors);
        }

        S.JobId = JobId;
        S.Spec = spec;
        S.CreatedAt = Now;
        S.Generation = 1;
        S.RendezvousDeadline = Now + TimeSpan.FromSeconds(spec.Workers.RendezvousTimeoutSeconds);
        Transition(JobPhase.Rendezvous, $"submitted; waiting for {WorkersWanted(spec)} until {Clock(S.RendezvousDeadline.Value)}");
        await Persist();
        await GrainFactory.GetGrain<IJobCatalogGrain>(0).Add(JobId);
        ArmRendezvousTimers();
        return Summary();
    }

    public Task<JobSummary?> GetSummary() => Task.FromResult(S.Exists ? Summary() : null);

    public Task<JobEventPage> GetEvents(long afterSequence, int maxEvents)
    {
        EnsureExists();
        var events = S.Events.Where(e => e.Sequence > afterSequence).Take(Math.Clamp(maxEvents, 1, 1000)).ToList();
        var last = events.Count > 0 ? events[^1].Sequence : Math.Max(afterSequence, 0);
        return Task.FromResult(new JobEventPage(events, last, Summary()));
    }

    public async Task<JobSummary> Cancel(string reason)
    {
        EnsureExists();
        if (S.Phase.IsTerminal())
        {
            throw new JobTransitionException(JobId, S.Phase, "cancel");
        }

        var members = S.Members.ToList();
        var generation = S.FormedGeneration;
        Transition(JobPhase.Cancelled, string.IsNullOrWhiteSpace(reason) ? "cancelled by the user" : $"cancelled: {reason}");
        EndGroup();
        await Persist();
        Push("Stop", members, (worker, _) => worker.Stop(new StopRequest(JobId, generation, "job cancelled", Rejoin: false)), reportFailures: false);
        return Summary();
    }

    public async Task<JobSummary> Pause(string reason)
    {
        EnsureExists();
        if (S.Phase != JobPhase.Running)
        {
            throw new JobTransitionException(JobId, S.Phase, "pause (only a Running job can be paused)");
        }

        Transition(JobPhase.Paused, string.IsNullOrWhiteSpace(reason) ? "paused by the user" : $"paused: {reason}");
        await Persist();
        var generation = S.FormedGeneration;
        Push("Pause", S.Members, (worker, _) => worker.Pause(new PauseRequest(JobId, generation, S.PhaseReason)), reportFailures: true);
        return Summary();
    }

    public async Task<JobSummary> Resume(string reason)
    {
        EnsureExists();
        if (S.Phase != JobPhase.Paused)
        {
            throw new JobTransitionException(JobId, S.Phase, "resume (only a Paused job can be resumed)");
        }

        Transition(JobPhase.Running, string.IsNullOrWhiteSpace(reason) ? "resumed by the user" : $"resumed: {reason}");
        await Persist();
        var generation = S.FormedGeneration;
        Push("Resume", S.Members, (worker, _) => worker.Resume(new ResumeRequest(JobId, generation, S.PhaseReason)), reportFailures: true);
        return Summary();
    }

    // ---------------------------------------------------------------- rendezvous

    public async Task<RendezvousResult> RegisterWorker(WorkerRegistration registration)
    {
        ArgumentNullException.ThrowIfNull(registration);
        EnsureExists();
        var spec = S.Spec!;
        if (S.Phase.IsTerminal())
        {
            return Result(RendezvousStatus.Rejected, $"job is {S.Phase}: {S.PhaseReason}");
        }

        if (CheckRegistration(registration) is { } problem)
        {
            JobLog.WorkerRejected(logger, JobId, registration.WorkerId, problem);
            return Result(RendezvousStatus.Rejected, problem);
        }

        if (S.Phase is JobPhase.Running or JobPhase.Paused)
        {
            if (S.Members.Any(m => m.WorkerId == registration.WorkerId))
            {
                // A member registering again lost its trainer (process restart): the group must re-form.
                var member = S.Members.First(m => m.WorkerId == registration.WorkerId);
                await HandleFailure($"worker {registration.WorkerId} ({member.Address}) registered again while a member of generation {S.FormedGeneration} (restarted?)");
                if (S.Phase != JobPhase.Rendezvous)
                {
                    return Result(RendezvousStatus.Rejected, S.PhaseReason);
                }
            }
            else
            {
                Upsert(S.Standby, registration);
                AddEvent(JobEventKind.WorkerJoined, $"worker {registration.WorkerId} ({registration.Host}) is on standby: generation {S.FormedGeneration} is running; it joins at the next formation");
                await Persist();
                JobLog.WorkerRegistered(logger, JobId, registration.WorkerId, registration.Devices.Count, RendezvousStatus.Standby);
                return Result(RendezvousStatus.Standby, $"generation {S.FormedGeneration} is running with {S.Members.Select(m => m.WorkerId).Distinct().Count()} workers; you join at the next formation");
            }
        }

        Upsert(S.Registrations, registration);
        AddEvent(JobEventKind.WorkerJoined, $"worker {registration.WorkerId} ({registration.Host}, {registration.Devices.Count} devices) joined: {S.Registrations.Count} of {WorkersWanted(spec)}");
        if (S.Registrations.Count >= spec.Workers.Max || (S.Registrations.Count >= spec.Workers.Min && _options.RendezvousGraceSeconds <= 0))
        {
            await Form();
        }
        else
        {
            await Persist();
            ArmRendezvousTimers();
        }

        var formed = S.FormedGeneration == S.Generation && S.Phase is JobPhase.Running or JobPhase.Paused;
        var status = !formed ? RendezvousStatus.Waiting
            : S.Members.Any(m => m.WorkerId == registration.WorkerId) ? RendezvousStatus.Formed : RendezvousStatus.Standby;
        JobLog.WorkerRegistered(logger, JobId, registration.WorkerId, registration.Devices.Count, status);
        return Result(status, status switch
        {
            RendezvousStatus.Waiting => $"{S.Registrations.Count} of {WorkersWanted(spec)} joined; waiting until {Clock(S.RendezvousDeadline ?? Now)}",
            RendezvousStatus.Formed => $"generation {S.Generation} formed; assignments go to your WorkerGrains",
            _ => $"generation {S.Generation} formed without you (more than workers.max, or the batch does not split); you join at the next formation",
        });
    }

    public Task<Assignment?> GetAssignment(string workerId, string deviceId)
    {
        EnsureExists();
        var member = S.FormedGeneration == 0 ? null : S.Members.FirstOrDefault(m => m.WorkerId == workerId && m.DeviceId == deviceId);
        return Task.FromResult(member is null ? null : AssignmentFor(member));
    }

    // ---------------------------------------------------------------- training reports

    public Task<ProgressAck> ReportProgress(ProgressReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        EnsureExists();
        EnsureFormed(report.Generation, "progress report");
        EnsureRank(report.Rank);
        var previous = _progress.GetValueOrDefault(report.Rank)?.SkippedSteps ?? 0;
        if (report.Rank == 0 && report.SkippedSteps > previous)
        {
            // Every rank skips the same steps; rank 0 speaks for the group.
            AddEvent(JobEventKind.Warning, $"{report.SkippedSteps - previous} step(s) up to step {report.GlobalStep} skipped: the averaged gradients were NaN or infinite ({report.SkippedSteps} in generation {report.Generation}; the job fails after {S.Spec!.MaxNonFiniteSteps} in a row)");
        }

        if (_stragglers.Observe(report.Rank, report.OwnSecondsPerStep) is { } straggler && S.Members.FirstOrDefault(m => m.Rank == straggler.Rank) is { } slow)
        {
            AddEvent(JobEventKind.Warning, string.Create(CultureInfo.InvariantCulture,
                $"rank {slow.Rank} ({slow.WorkerId} on {slow.Host}) is a straggler: {straggler.OwnSecondsPerStep:0.000} s of its own work per step, {straggler.Ratio:0.0}x the other ranks' median of {straggler.OthersMedianSeconds:0.000} s; the whole group trains at its pace"));
        }

        _progress[report.Rank] = report;
        _lastSeen[report.Rank] = Now;
        S.Progress = Aggregate();
        JobTelemetry.Progress(JobId, S.Progress);
        return Task.FromResult(S.Phase switch
        {
            JobPhase.Running => new ProgressAck(WorkerDirective.Continue, ""),
            JobPhase.Paused => new ProgressAck(WorkerDirective.Pause, S.PhaseReason),
            _ => new ProgressAck(WorkerDirective.Stop, $"job is {S.Phase}: {S.PhaseReason}"),
        });
    }

    public async Task ReportEpoch(EpochReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        EnsureExists();
        EnsureFormed(report.Generation, "epoch report");
        EnsureRank(report.Rank);
        _lastSeen[report.Rank] = Now;
        var plan = S.CurrentPlan!;
        if (S.Phase.IsTerminal() || report.Epoch < plan.Epoch)
        {
            JobLog.Ignored(logger, JobId, $"epoch {report.Epoch} report of rank {report.Rank}", "that epoch is already complete");
            return;
        }

        if (report.Epoch > plan.Epoch)
        {
            throw new ArgumentException($"rank {report.Rank} reported epoch {report.Epoch}, but epoch {plan.Epoch} is in progress", nameof(report));
        }

        if (plan.Evaluate && report.Eval is null)
        {
            throw new ArgumentException($"epoch {plan.Epoch} is an evaluation epoch: rank {report.Rank} must report its eval counts", nameof(report));
        }

        S.EpochReports[report.Rank] = report;
        if (S.EpochReports.Count == S.Members.Count)
        {
            CompleteEpoch(plan);
        }

        await Persist();
    }

    public async Task ReportFailure(FailureReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        EnsureExists();
        EnsureFormed(report.Generation, "failure report");
        if (S.Phase is not (JobPhase.Running or JobPhase.Paused))
        {
            JobLog.Ignored(logger, JobId, "failure report", $"job is {S.Phase}");
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
            AddEvent(JobEventKind.Failure, reason);
            await Fail(reason);
            Push("Stop", members, (worker, _) => worker.Stop(new StopRequest(JobId, generation, reason, Rejoin: false)), reportFailures: false);
            return;
        }

        await HandleFailure($"{who}{by}: {report.Reason}");
    }

    public Task<EpochPlanResult> GetEpochPlan(long generation, int epoch)
    {
        EnsureExists();
        EnsureFormed(generation, "epoch plan request");
        var plan = S.CurrentPlan!;
        if (S.Phase == JobPhase.Completed)
        {
            return Task.FromResult(new EpochPlanResult(EpochPlanStatus.Finished, null, S.PhaseReason));
        }

        if (S.Phase.IsTerminal())
        {
            return Task.FromResult(new EpochPlanResult(EpochPlanStatus.Finished, null, $"job is {S.Phase}: {S.PhaseReason}"));
        }

        if (epoch == plan.Epoch)
        {
            return Task.FromResult(new EpochPlanResult(EpochPlanStatus.Ready, plan, ""));
        }

        if (epoch == plan.Epoch + 1)
        {
            var missing = S.Members.Select(m => m.Rank).Where(r => !S.EpochReports.ContainsKey(r));
            return Task.FromResult(new EpochPlanResult(EpochPlanStatus.Pending, null,
                $"epoch {plan.Epoch} is still open: waiting for the reports of ranks {string.Join(", ", missing)}"));
        }

        throw new ArgumentOutOfRangeException(nameof(epoch), epoch, $"epoch {plan.Epoch} is in progress; epoch {epoch} has no plan");
    }

    // ---------------------------------------------------------------- checkpoint registry

    public async Task<CheckpointTicket> BeginCheckpoint(CheckpointRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        EnsureExists();
        EnsureFormed(request.Generation, "checkpoint");
        if (S.Phase is not (JobPhase.Running or JobPhase.Paused or JobPhase.Completed))
        {
            throw new JobTransitionException(JobId, S.Phase, "begin a checkpoint");
        }

        var id = string.Create(CultureInfo.InvariantCulture, $"ckpt-g{request.Generation:D4}-e{request.Epoch:D4}-s{request.GlobalStep:D10}");
        var staging = checkpointStore.BeginUpload(JobId, id);
        S.PendingCheckpoints[id] = request;
        await Persist();
        return new CheckpointTicket(id, request.Generation, staging);
    }

    public async Task<CheckpointRecord> CommitCheckpoint(CheckpointCommit commit)
    {
        ArgumentNullException.ThrowIfNull(commit);
        EnsureExists();
        EnsureFormed(commit.Generation, "checkpoint commit");
        if (!S.PendingCheckpoints.TryGetValue(commit.CheckpointId, out var request))
        {
            throw new CheckpointRejectedException(commit.CheckpointId, $"was not begun in generation {commit.Generation}");
        }

        S.PendingCheckpoints.Remove(commit.CheckpointId);
        try
        {
            await checkpointStore.CommitAsync(JobId, commit.CheckpointId, commit.SizeBytes, commit.Sha256);
        }
        catch (CheckpointRejectedException)
        {
            await Persist();
            throw;
        }

        var record = new CheckpointRecord
        {
            CheckpointId = commit.CheckpointId,
            Generation = commit.Generation,
            Epoch = request.Epoch,
            Cursor = request.Cursor,
            GlobalStep = request.GlobalStep,
            SizeBytes = commit.SizeBytes,
            Sha256 = commit.Sha256.ToLowerInvariant(),
            CommittedAt = Now,
            Scheduler = S.Scheduler,
            LearningRate = S.Scheduler.Lr,
        };
        S.Checkpoints.Add(record);
        AddEvent(JobEventKind.CheckpointCommitted, $"checkpoint {record.CheckpointId} committed: epoch {record.Epoch}, step {record.GlobalStep}, {record.SizeBytes} bytes");
        while (S.Checkpoints.Count > S.Spec!.Checkpoint.Keep)
        {
            var oldest = S.Checkpoints[0];
            S.Checkpoints.RemoveAt(0);
            checkpointStore.Delete(JobId, oldest.CheckpointId);
        }

        await Persist();
        return record;
    }

    public async Task AbortCheckpoint(CheckpointAbort abort)
    {
        ArgumentNullException.ThrowIfNull(abort);
        EnsureExists();
        EnsureFormed(abort.Generation, "checkpoint abort");
        if (!S.PendingCheckpoints.Remove(abort.CheckpointId, out var request))
        {
            throw new CheckpointRejectedException(abort.CheckpointId, $"was not begun in generation {abort.Generation}");
        }

        checkpointStore.DiscardUpload(JobId, abort.CheckpointId);
        var latest = S.Checkpoints.Count > 0 ? $"the latest committed checkpoint stays {S.Checkpoints[^1].CheckpointId}" : "no checkpoint is committed yet";
        AddEvent(JobEventKind.Failure, $"checkpoint {abort.CheckpointId} (epoch {request.Epoch}, step {request.GlobalStep}) was not saved: {abort.Reason}; training goes on and {latest}");
        await Persist();
    }

    public Task<IReadOnlyList<CheckpointRecord>> GetCheckpoints()
    {
        EnsureExists();
        return Task.FromResult<IReadOnlyList<CheckpointRecord>>(S.Checkpoints.ToList());
    }

    public Task<CheckpointAccessDecision> AuthorizeUpload(long generation, string checkpointId, string token) =>
        Task.FromResult(Authorize(generation, checkpointId, token, S.PendingCheckpoints.ContainsKey(checkpointId), "was not begun"));

    public Task<CheckpointAccessDecision> AuthorizeDownload(long generation, string checkpointId, string token) =>
        Task.FromResult(Authorize(generation, checkpointId, token, S.Checkpoints.Any(c => c.CheckpointId == checkpointId), "is not committed"));

    private CheckpointAccessDecision Authorize(long generation, string checkpointId, string token, bool known, string unknownText)
    {
        if (!S.Exists)
        {
            return new(CheckpointAccessVerdict.UnknownJob, $"job {Quote.Value(JobId)} does not exist");
        }

        if (S.FormedGeneration == 0 || generation != S.FormedGeneration)
        {
            return new(CheckpointAccessVerdict.StaleGeneration, $"job {JobId}: checkpoint transfer carries generation {generation} but the current generation is {S.Generation}");
        }

        if (!known)
        {
            return new(CheckpointAccessVerdict.UnknownCheckpoint, $"checkpoint {checkpointId} {unknownText} in generation {generation} of job {JobId}");
        }

        return CheckpointAccessToken.Matches(S.CollectiveSecret, JobId, generation, checkpointId, token)
            ? CheckpointAccessDecision.Allowed
            : new(CheckpointAccessVerdict.BadToken, $"token does not match generation {generation} of job {JobId}");
    }

    // ---------------------------------------------------------------- formation and failure

    private async Task Form()
    {
        var spec = S.Spec!;
        CancelRendezvousTimers();
        var formation = GroupFormation.Plan(spec, S.Registrations);
        if (formation.Error is { } error)
        {
            await Fail($"cannot form generation {S.Generation}: {error}");
            return;
        }

        var dataset = formation.Workers[0].Dataset;
        var stepsPerEpoch = dataset.TrainSamples / formation.GlobalBatch;
        if (stepsPerEpoch < 1)
        {
            await Fail($"cannot form generation {S.Generation}: the dataset has {dataset.TrainSamples} training samples, fewer than the global batch {formation.GlobalBatch}");
            return;
        }

        var previousBatch = S.GlobalBatch;
        S.Dataset = dataset;
        S.GlobalBatch = formation.GlobalBatch;
        S.PerRankBatch = formation.PerRankBatch;
        S.StepsPerEpoch = stepsPerEpoch;
        S.TotalEpochs = spec.Epochs ?? (int)Math.Ceiling((double)spec.Iterations!.Value / stepsPerEpoch);
        var schedule = new LrSchedule(spec, S.GlobalBatch, stepsPerEpoch);

        // Where to start: the newest checkpoint that verifies, else from scratch.
        var (epoch, cursor, step) = (0, 0L, 0L);
        var origin = "starting from scratch";
        S.ResumeFrom = null;
        S.ResumePath = null;
        if (S.Checkpoints.Count > 0)
        {
            var choice = await checkpointStore.ChooseRestoreAsync(JobId, S.Checkpoints);
            foreach (var (bad, problem) in choice.Rejected)
            {
                S.Checkpoints.Remove(bad);
                AddEvent(JobEventKind.Failure, $"checkpoint {bad.CheckpointId} failed verification and was dropped: {problem}");
            }

            if (choice.Record is { } record)
            {
                (epoch, cursor, step) = (record.Epoch, record.Cursor, record.GlobalStep);
                S.ResumeFrom = record;
                S.ResumePath = choice.Path;
                S.Scheduler = record.Scheduler ?? S.Scheduler;
                origin = $"resuming from checkpoint {record.CheckpointId} (epoch {record.Epoch}, step {record.GlobalStep})";
                // Epochs after the checkpoint are trained again; their old metrics no longer describe the model.
                var undone = S.Metrics.Where(m => m.Epoch >= record.Epoch).Select(m => m.Epoch).ToList();
                if (undone.Count > 0)
                {
                    S.Metrics.RemoveAll(m => m.Epoch >= record.Epoch);
                    AddEvent(JobEventKind.EpochMetrics, $"metrics of epochs {string.Join(", ", undone.Distinct())} discarded: those epochs are trained again from checkpoint {record.CheckpointId}");
                }
            }
        }

        if (S.ResumeFrom is null)
        {
            S.Scheduler = ReduceLrOnPlateau.Initial(schedule.ScaledLr);
            S.EpochReports.Clear();
            RecordDecision(0, 0, spec.Optimizer.Lr, schedule.ScaledLr, LrDecisionKind.Initial, schedule.DescribeInitial());
        }
        else if (previousBatch != 0 && previousBatch != S.GlobalBatch && spec.Schedule.LinearScaling is not null)
        {
            var old = S.Scheduler.Lr;
            S.Scheduler = S.Scheduler with { Lr = old * S.GlobalBatch / previousBatch };
            RecordDecision(epoch, step, old, S.Scheduler.Lr, LrDecisionKind.Initial,
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
        JobTelemetry.Formed(JobId, S.Generation, S.Members.Count, S.Transitions.LastOrDefault(t => t.To == JobPhase.Rendezvous)?.At);
        S.RendezvousDeadline = null;
        S.EpochReports.Clear();
        S.PendingCheckpoints.Clear();
        S.CurrentPlan = BuildPlan(epoch, cursor, step);
        S.FormationPlan = S.CurrentPlan;
        var workerIds = formation.Workers.Select(w => w.WorkerId).ToList();
        AddEvent(JobEventKind.GroupFormed, $"generation {S.Generation}: ranks {string.Join(", ", S.Members.Select(m => $"{m.Rank}={m.WorkerId}/{m.DeviceId}"))}");
        Transition(JobPhase.Running,
            $"generation {S.Generation} formed with {workerIds.Count} workers ({string.Join(", ", workerIds)}), {S.Members.Count} ranks, " +
            $"global batch {S.GlobalBatch} = {S.Members.Count} × {S.PerRankBatch}; {origin}");
        if (S.KeepPaused)
        {
            S.KeepPaused = false;
            Transition(JobPhase.Paused, $"still paused: the job was paused before generation {S.Generation} formed; resume it to continue");
        }

        await Persist();
        StartLiveness();
        Push("StartTraining", S.Members, (worker, member) => worker.StartTraining(AssignmentFor(member)), reportFailures: true);
    }

    private async Task HandleFailure(string description)
    {
        var spec = S.Spec!;
        var members = S.Members.ToList();
        var generation = S.FormedGeneration;
        AddEvent(JobEventKind.Failure, description);
        S.KeepPaused = S.Phase == JobPhase.Paused;
        S.Restarts++;
        JobTelemetry.Restart(JobId, S.Generation);
        StopLiveness();
        if (S.Restarts > spec.MaxRestarts)
        {
            Transition(JobPhase.Failed, $"{description}; no restarts left (maxRestarts {spec.MaxRestarts})");
            EndGroup();
            await Persist();
            Push("Stop", members, (worker, _) => worker.Stop(new StopRequest(JobId, generation, S.PhaseReason, Rejoin: false)), reportFailures: false);
            return;
        }

        var from = S.Checkpoints.Count > 0 ? $"checkpoint {S.Checkpoints[^1].CheckpointId}" : "scratch (no committed checkpoint)";
        S.Generation++;
        S.FormedGeneration = 0;
        S.Members = [];
        S.Registrations = S.Standby.ToList();
        S.Standby = [];
        S.RendezvousDeadline = Now + TimeSpan.FromSeconds(spec.Workers.RendezvousTimeoutSeconds);
        Transition(JobPhase.Rendezvous,
            $"{description}; re-forming as generation {S.Generation} from {from} (restart {S.Restarts} of {spec.MaxRestarts}); waiting for {WorkersWanted(spec)} until {Clock(S.RendezvousDeadline.Value)}");
        await Persist();
        ArmRendezvousTimers();
        Push("Stop", members, (worker, _) => worker.Stop(new StopRequest(JobId, generation, description, Rejoin: true)), reportFailures: false);
    }

    private async Task Fail(string reason)
    {
        Transition(JobPhase.Failed, reason);
        EndGroup();
        await Persist();
    }

    private void EndGroup()
    {
        CancelRendezvousTimers();
        StopLiveness();
        S.RendezvousDeadline = null;
        S.Registrations = [];
        S.Standby = [];
    }

    private async Task OnRendezvousDeadline()
    {
        if (S.Phase != JobPhase.Rendezvous)
        {
            return;
        }

        var spec = S.Spec!;
        if (S.Registrations.Count >= spec.Workers.Min)
        {
            await Form();
            return;
        }

        var joined = S.Registrations.Count == 0 ? "none" : string.Join(", ", S.Registrations.Select(r => $"{r.WorkerId} on {r.Host}"));
        await Fail($"rendezvous for generation {S.Generation} timed out after {spec.Workers.RendezvousTimeoutSeconds.ToString(CultureInfo.InvariantCulture)} s: " +
                   $"{S.Registrations.Count} of {spec.Workers.Min} required workers joined ({joined})");
    }

    private async Task OnGraceElapsed()
    {
        if (S.Phase == JobPhase.Rendezvous && S.Registrations.Count >= S.Spec!.Workers.Min)
        {
            await Form();
        }
    }

    private async Task OnLivenessCheck()
    {
        if (S.Phase is not (JobPhase.Running or JobPhase.Paused))
        {
            return;
        }

        var limit = TimeSpan.FromSeconds(_options.WorkerLivenessTimeoutSeconds);
        foreach (var member in S.Members)
        {
            if (_lastSeen.TryGetValue(member.Rank, out var seen) && Now - seen > limit)
            {
                await HandleFailure($"rank {member.Rank} ({member.WorkerId} on {member.Host}, {member.Address}) failed: no progress for {(int)(Now - seen).TotalSeconds} s");
                return;
            }
        }
    }

    // ---------------------------------------------------------------- epochs and the schedule

    private EpochPlan BuildPlan(int epoch, long cursor, long startStep)
    {
        var spec = S.Spec!;
        var schedule = new LrSchedule(spec, S.GlobalBatch, S.StepsPerEpoch);
        var remaining = Math.Max(0, (S.Dataset!.TrainSamples - cursor) / S.GlobalBatch);
        var end = startStep + remaining;
        if (spec.Iterations is { } iterations)
        {
            end = Math.Min(end, iterations);
        }

        var last = epoch >= S.TotalEpochs - 1 || (spec.Iterations is { } budget && end >= budget);
        foreach (var (step, oldLr, newLr, reason) in schedule.MilestonesWithin(startStep, end, epoch, S.Scheduler.Lr))
        {
            if (!S.LrDecisions.Any(d => d.Kind == LrDecisionKind.Milestone && d.GlobalStep == step))
            {
                RecordDecision(epoch, step, oldLr, newLr, LrDecisionKind.Milestone, reason);
            }
        }

        if (schedule.WarmupSteps > startStep && schedule.WarmupSteps <= end && !S.LrDecisions.Any(d => d.Kind == LrDecisionKind.WarmupDone))
        {
            var before = schedule.At(schedule.WarmupSteps - 1, epoch, S.Scheduler.Lr);
            var after = schedule.At(schedule.WarmupSteps, epoch, S.Scheduler.Lr);
            RecordDecision(epoch, schedule.WarmupSteps, before, after, LrDecisionKind.WarmupDone,
                $"warmup ends at step {schedule.WarmupSteps} → lr {ReduceLrOnPlateau.Lr(before)} → {ReduceLrOnPlateau.Lr(after)}");
        }

        return new EpochPlan
        {
            Generation = S.Generation,
            Epoch = epoch,
            TotalEpochs = S.TotalEpochs,
            StepsInEpoch = S.StepsPerEpoch,
            StartGlobalStep = startStep,
            EndGlobalStep = end,
            Cursor = cursor,
            GlobalBatch = S.GlobalBatch,
            PerRankBatch = S.PerRankBatch,
            WorldSize = S.Members.Count == 0 ? S.GlobalBatch / S.PerRankBatch : S.Members.Count,
            Seed = spec.Seed,
            Evaluate = last || (epoch + 1) % spec.Evaluation.EveryEpochs == 0,
            Checkpoint = last || (epoch + 1) % spec.Checkpoint.EveryEpochs == 0,
            LrSegments = schedule.Segments(startStep, end, epoch, S.Scheduler.Lr),
            Momentum = spec.Optimizer.Momentum,
            WeightDecay = spec.Optimizer.WeightDecay,
            Nesterov = spec.Optimizer.Nesterov,
            TraceParent = JobTelemetry.EpochPlanned(JobId, S.Generation, epoch),
        };
    }

    private void CompleteEpoch(EpochPlan plan)
    {
        var spec = S.Spec!;
        var train = S.EpochReports.Values.Select(r => r.Train).Aggregate(TrainCounts.Zero, TrainCounts.Add);
        var eval = plan.Evaluate ? S.EpochReports.Values.Select(r => r.Eval!).Aggregate(EvalCounts.Zero, EvalCounts.Add) : null;
        var metrics = new EpochMetrics
        {
            Epoch = plan.Epoch,
            GlobalStep = plan.EndGlobalStep,
            TrainLoss = train.MeanLoss,
            TrainTop1Error = train.Top1Error,
            TrainSamples = train.Samples,
            ValTop1Error = eval?.Top1Error,
            ValTop5Error = eval?.Top5Error,
            ValLoss = eval?.MeanLoss,
            ValSamples = eval?.Total ?? 0,
            LearningRate = plan.LearningRateAt(Math.Max(plan.StartGlobalStep, plan.EndGlobalStep - 1)),
            At = Now,
            RankImagesPerSecond = new(S.EpochReports.OrderBy(r => r.Key).Select(r => r.Value.TrainSeconds > 0 ? r.Value.Train.Samples / r.Value.TrainSeconds : 0).ToArray()),
        };
        S.Metrics.Add(metrics);
        JobTelemetry.EpochCompleted(JobId, metrics);
        var text = Describe(metrics);
        AddEvent(JobEventKind.EpochMetrics, $"epoch {plan.Epoch}: {text}");
        JobLog.EpochDone(logger, JobId, plan.Epoch, text);

        if (spec.Schedule.Plateau is { } plateau && (eval is not null || PlateauMetricInfo.IsTraining(plateau.Metric)))
        {
            var value = plateau.Metric switch
            {
                PlateauMetric.ValTop1Error => eval!.Top1Error,
                PlateauMetric.ValTop5Error => eval!.Top5Error,
                PlateauMetric.ValLoss => eval!.MeanLoss,
                PlateauMetric.ValTop1Accuracy => 1.0 - eval!.Top1Error,
                _ => train.MeanLoss,
            };
            var step = ReduceLrOnPlateau.Step(plateau, S.Scheduler, value, plan.Epoch);
            S.Scheduler = step.State;
            if (step.Reason is { } reason)
            {
                RecordDecision(plan.Epoch + 1, plan.EndGlobalStep, step.OldLr, step.NewLr, LrDecisionKind.Plateau, reason);
            }
        }

        S.EpochReports.Clear();
        var finished = plan.Epoch >= S.TotalEpochs - 1 || (spec.Iterations is { } iterations && plan.EndGlobalStep >= iterations);
        if (finished)
        {
            var length = spec.Iterations is { } n ? $"{n} iterations" : $"{S.TotalEpochs} epochs";
            Transition(JobPhase.Completed, $"trained {length} (step {plan.EndGlobalStep}); final {text}");
            StopLiveness();
            return;
        }

        S.CurrentPlan = BuildPlan(plan.Epoch + 1, 0, plan.EndGlobalStep);
    }

    private void RecordDecision(int epoch, long step, double oldLr, double newLr, LrDecisionKind kind, string reason)
    {
        S.LrDecisions.Add(new LrDecision(epoch, step, oldLr, newLr, kind, reason, Now));
        JobTelemetry.Decision(JobId, kind, newLr);
        AddEvent(JobEventKind.LrDecision, reason);
        JobLog.LrChanged(logger, JobId, oldLr, newLr, reason);
    }

    private static string Describe(EpochMetrics m)
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"train loss {m.TrainLoss:0.0000}, train top-1 error {m.TrainTop1Error * 100:0.00}%");
        if (m.ValTop1Error is { } top1)
        {
            text += string.Create(CultureInfo.InvariantCulture,
                $", val top-1 error {top1 * 100:0.00}%, top-5 error {m.ValTop5Error * 100:0.00}%, val loss {m.ValLoss:0.0000} ({m.ValSamples} samples)");
        }

        return text + string.Create(CultureInfo.InvariantCulture, $", lr {m.LearningRate:G6}");
    }

    // ---------------------------------------------------------------- helpers

    private Assignment AssignmentFor(PeerInfo member) => new()
    {
        JobId = JobId,
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
        FirstEpoch = S.FormationPlan!,
        StartPaused = S.Phase == JobPhase.Paused,
    };

    private string? CheckRegistration(WorkerRegistration r)
    {
        var spec = S.Spec!;
        if (string.IsNullOrWhiteSpace(r.WorkerId) || r.WorkerId.Contains('/', StringComparison.Ordinal))
        {
            return $"workerId must be non-empty and without '/', got {Quote.Value(r.WorkerId)}";
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

        if (spec.Precision == Precision.Amp && r.Devices.Take(spec.Workers.DevicesPerWorker).FirstOrDefault(d => d.Kind != DeviceKind.Cuda) is { } cpu)
        {
            return $"precision amp needs CUDA devices but worker {r.WorkerId} offers {cpu.DeviceId} ({cpu.Kind})";
        }

        if (r.Dataset is null || r.Dataset.TrainSamples < 1)
        {
            return $"worker {r.WorkerId} found no training samples in the dataset ({spec.Dataset.Kind} {spec.Dataset.Path})";
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

    private JobProgress Aggregate()
    {
        var reports = _progress.Values.Where(p => p.Generation == S.FormedGeneration).ToList();
        return new JobProgress
        {
            Epoch = reports.Count == 0 ? 0 : reports.Min(p => p.Epoch),
            GlobalStep = reports.Count == 0 ? 0 : reports.Min(p => p.GlobalStep),
            StepsInEpoch = S.StepsPerEpoch,
            ImagesPerSecond = reports.Sum(p => p.ImagesPerSecond),
            Loss = reports.Count == 0 ? 0 : reports.Average(p => p.Loss),
            DataWaitShare = reports.Count == 0 ? 0 : reports.Average(p => p.DataWaitShare),
            AllReduceShare = reports.Count == 0 ? 0 : reports.Average(p => p.AllReduceShare),
            LearningRate = reports.Count == 0 ? 0 : reports[0].LearningRate,
            At = Now,
        };
    }

    private JobSummary Summary() => new()
    {
        JobId = JobId,
        Spec = S.Spec!,
        Phase = S.Phase,
        PhaseReason = S.PhaseReason,
        Generation = S.Generation,
        WorldSize = S.Members.Count,
        Epoch = S.CurrentPlan?.Epoch ?? 0,
        GlobalStep = S.Progress?.GlobalStep ?? S.CurrentPlan?.StartGlobalStep ?? 0,
        LearningRate = S.CurrentPlan is { } plan ? plan.LearningRateAt(Math.Max(plan.StartGlobalStep, S.Progress?.GlobalStep ?? plan.StartGlobalStep)) : S.Scheduler.Lr,
        Restarts = S.Restarts,
        Progress = S.Progress,
        LatestMetrics = S.Metrics.LastOrDefault(),
        BestMetrics = S.Metrics.Where(m => m.ValTop1Error is not null).MinBy(m => m.ValTop1Error),
        Transitions = S.Transitions.ToList(),
        LrDecisions = S.LrDecisions.ToList(),
        LatestCheckpoint = S.Checkpoints.LastOrDefault(),
        CreatedAt = S.CreatedAt,
        UpdatedAt = S.UpdatedAt,
        MetricsHistory = S.Metrics.ToList(),
        TotalEpochs = S.TotalEpochs != 0 ? S.TotalEpochs : S.Spec?.Epochs ?? 0,
    };

    private void Transition(JobPhase to, string reason)
    {
        var from = S.Phase;
        if (!JobTransitions.IsAllowed(from, to))
        {
            throw new JobTransitionException(JobId, from, $"move to {to}");
        }

        S.Phase = to;
        S.PhaseReason = reason;
        S.Transitions.Add(new PhaseTransition(from, to, reason, Now, S.Generation));
        JobTelemetry.Phase(JobId, from, to, reason, S.Generation, S.CreatedAt);
        AddEvent(JobEventKind.Transition, $"{from} → {to}: {reason}");
        JobLog.Transition(logger, JobId, from, to, reason);
    }

    private void AddEvent(JobEventKind kind, string message)
    {
        S.LastEventSequence++;
        S.Events.Add(new JobEvent(S.LastEventSequence, Now, kind, message, S.Phase, S.Generation));
        if (S.Events.Count > MaxEvents)
        {
            S.Events.RemoveRange(0, S.Events.Count - MaxEvents);
        }
    }

    private Task Persist()
    {
        S.UpdatedAt = Now;
        return state.WriteStateAsync();
    }

    private void EnsureExists()
    {
        if (!S.Exists)
        {
            throw new JobNotFoundException(JobId);
        }
    }

    private void EnsureFormed(long generation, string operation)
    {
        if (S.FormedGeneration == 0 || generation != S.FormedGeneration)
        {
            throw new StaleGenerationException(JobId, generation, S.Generation, operation);
        }
    }

    private void EnsureRank(int rank)
    {
        if (rank < 0 || rank >= S.Members.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"generation {S.FormedGeneration} has ranks 0..{S.Members.Count - 1}");
        }
    }

    private ModelCheck? ModelCheck() =>
        services.GetService<ModelCheck>()
        ?? (_options.KnownModels.Count > 0 ? JobSpecValidator.KnownModels(_options.KnownModels) : null);

    private static void Upsert(List<WorkerRegistration> list, WorkerRegistration registration)
    {
        list.RemoveAll(r => r.WorkerId == registration.WorkerId);
        list.Add(registration);
    }

    private static string WorkersWanted(JobSpec spec) =>
        spec.Workers.Min == spec.Workers.Max ? $"{spec.Workers.Min} workers" : $"{spec.Workers.Min}–{spec.Workers.Max} workers";

    private static string Clock(DateTimeOffset at) => at.UtcDateTime.ToString("HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    // ---------------------------------------------------------------- timers and pushes

    private void ArmRendezvousTimers()
    {
        if (S.RendezvousDeadline is { } deadline)
        {
            _deadlineTimer?.Dispose();
            var due = deadline - Now;
            _deadlineTimer = this.RegisterGrainTimer(OnRendezvousDeadline,
                new GrainTimerCreationOptions(due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan) { KeepAlive = true });
        }

        if (S.Registrations.Count >= S.Spec!.Workers.Min && _graceTimer is null)
        {
            _graceTimer = this.RegisterGrainTimer(OnGraceElapsed,
                new GrainTimerCreationOptions(TimeSpan.FromSeconds(_options.RendezvousGraceSeconds), Timeout.InfiniteTimeSpan) { KeepAlive = true });
        }
    }

    private void CancelRendezvousTimers()
    {
        _deadlineTimer?.Dispose();
        _deadlineTimer = null;
        _graceTimer?.Dispose();
        _graceTimer = null;
    }

    private void StartLiveness()
    {
        foreach (var member in S.Members)
        {
            _lastSeen[member.Rank] = Now;
        }

        _livenessTimer?.Dispose();
        var period = TimeSpan.FromSeconds(Math.Clamp(_options.WorkerLivenessTimeoutSeconds / 4, 0.1, 5));
        _livenessTimer = this.RegisterGrainTimer(OnLivenessCheck, new GrainTimerCreationOptions(period, period) { KeepAlive = true });
    }

    private void StopLiveness()
    {
        _livenessTimer?.Dispose();
        _livenessTimer = null;
        _lastSeen.Clear();
        _progress.Clear();
        _stragglers.Reset();
    }

    /// <summary>Tells each member, after this turn; a member that cannot be reached is reported as failed.</summary>
    private void Push(string operation, IEnumerable<PeerInfo> members, Func<IWorkerGrain, PeerInfo, Task> call, bool reportFailures)
    {
        var generation = S.FormedGeneration;
        var timeout = TimeSpan.FromSeconds(_options.WorkerCallTimeoutSeconds);
        foreach (var member in members.ToList())
        {
            _ = PushOne(operation, member, generation, timeout, call, reportFailures);
        }
    }

    private async Task PushOne(string operation, PeerInfo member, long generation, TimeSpan timeout, Func<IWorkerGrain, PeerInfo, Task> call, bool reportFailures)
    {
        await Task.Yield(); // leave the deciding turn first
        var key = WorkerGrainKey.For(member.WorkerId, member.DeviceId);
        try
        {
            await call(GrainFactory.GetGrain<IWorkerGrain>(key), member).WaitAsync(timeout);
        }
        catch (Exception e)
        {
            JobLog.PushFailed(logger, JobId, operation, key, e);
            if (!reportFailures)
            {
                return;
            }

            try
            {
                await this.AsReference<IJobGrain>().ReportFailure(new FailureReport
                {
                    Generation = generation,
                    FailedRank = member.Rank,
                    FailedAddress = member.Address,
                    Reason = $"{operation} could not be delivered to {key}: {e.Message}",
                });
            }
            catch (StaleGenerationException)
            {
                // The group already re-formed.
            }
        }
    }
}
