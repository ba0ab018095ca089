using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Rendezvous;
using Plateau.Contracts.Specs;
using Plateau.Contracts.Training;
using Plateau.Contracts.Workers;
using Plateau.Coordinator.Checkpoints;
using Plateau.Coordinator.Configuration;

namespace Plateau.Coordinator.Jobs;

/// <summary>
/// One training job, as a grain: persistence, timers and pushes to WorkerGrains. Every decision is made
/// by the plain classes it holds (<see cref="JobLifecycle"/>, <see cref="WorkerRendezvous"/>,
/// <see cref="EpochPlanner"/>, <see cref="CheckpointRegistry"/>, <see cref="RankProgress"/>). Every change
/// is persisted before anyone is told about it (invariant 1); pushes run after the turn that decided them
/// (never awaited inside it), so a worker calling the job at the same time cannot deadlock against it.
/// </summary>
public sealed class JobGrain : Grain, IJobGrain, ICheckpointAuthority, IRemindable
{
    /// <summary>The grain storage every coordinator grain uses.</summary>
    public const string StorageName = "plateau";

    private readonly IPersistentState<JobState> _state;
    private readonly CoordinatorOptions _options;
    private readonly ILogger<JobGrain> _logger;
    private readonly JobContext _job;
    private readonly JobJournal _journal;
    private readonly JobLifecycle _lifecycle;
    private readonly EpochPlanner _epochs;
    private readonly CheckpointRegistry _checkpoints;
    private readonly WorkerRendezvous _rendezvous;
    private readonly RankProgress _progress;
    private IGrainTimer? _deadlineTimer;
    private IGrainTimer? _graceTimer;
    private IGrainTimer? _livenessTimer;
    private IGrainReminder? _aliveReminder;
    private bool _aliveReminderKnown;

    public JobGrain(
        [PersistentState("job", StorageName)] IPersistentState<JobState> state,
        ICheckpointStorage checkpointStorage,
        IOptions<CoordinatorOptions> coordinatorOptions,
        ModelCheck models,
        TimeProvider time,
        ILogger<JobGrain> logger)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(coordinatorOptions);
        _state = state;
        _options = coordinatorOptions.Value;
        _logger = logger;
        _job = new JobContext(this.GetPrimaryKeyString(), () => state.State, time, logger);
        _journal = new JobJournal(_job);
        _lifecycle = new JobLifecycle(_job, _journal, models);
        _epochs = new EpochPlanner(_job, _journal);
        _checkpoints = new CheckpointRegistry(_job, _journal, checkpointStorage);
        _rendezvous = new WorkerRendezvous(_job, _journal, _lifecycle, _epochs, _checkpoints, _options.RendezvousGraceSeconds);
        _progress = new RankProgress(_job, _journal, _lifecycle);
    }

    private JobState S => _state.State;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        SyncTimers();
        if (S.Exists)
        {
            SweepStaging(); // what a coordinator that died mid-upload left behind
        }

        if (JobAliveReminder.Wanted(S))
        {
            await SyncAliveReminder();
        }
    }

    /// <summary>The tick's work is done by the activation it caused; a job that finished without letting go of the
    /// reminder (its silo died in between) lets go now.</summary>
    public Task ReceiveReminder(string reminderName, TickStatus status) =>
        reminderName == JobAliveReminder.Name && !JobAliveReminder.Wanted(S) ? SyncAliveReminder() : Task.CompletedTask;

    // ---------------------------------------------------------------- user operations

    public async Task<JobSummary> Submit(JobSpec spec)
    {
        _lifecycle.Submit(spec);
        await Save();
        await GrainFactory.GetGrain<IJobCatalogGrain>(0).Add(_job.JobId);
        return JobSummaryProjection.Of(S);
    }

    public Task<JobSummary?> GetSummary() => Task.FromResult(S.Exists ? JobSummaryProjection.Of(S) : null);

    public Task<JobStaffing?> GetStaffing() => Task.FromResult(S.Exists ? JobSummaryProjection.StaffingOf(S) : null);

    public Task<JobEventPage> GetEvents(long afterSequence, int maxEvents)
    {
        _job.EnsureExists();
        var (events, last) = _journal.After(afterSequence, maxEvents);
        return Task.FromResult(new JobEventPage(events.ToList(), last, JobSummaryProjection.Of(S)));
    }

    public Task<JobSummary> Cancel(string reason) => Decide(() => _lifecycle.Cancel(reason));

    public Task<JobSummary> Pause(string reason) => Decide(() => _lifecycle.Pause(reason));

    public Task<JobSummary> Resume(string reason) => Decide(() => _lifecycle.Resume(reason));

    // ---------------------------------------------------------------- rendezvous

    public async Task<RendezvousResult> RegisterWorker(WorkerRegistration registration)
    {
        var journalled = S.LastEventSequence;
        var result = _rendezvous.Register(registration);
        await SaveIfJournalled(journalled);
        SweepStagingIfDue();
        return result;
    }

    public Task<Assignment?> GetAssignment(string workerId, string deviceId) =>
        Task.FromResult(_rendezvous.AssignmentFor(workerId, deviceId));

    // ---------------------------------------------------------------- training reports

    public Task<ProgressAck> ReportProgress(ProgressReport report) => Task.FromResult(_progress.Observe(report));

    public Task<IReadOnlyList<RankThroughput>> GetThroughput() =>
        Task.FromResult(S.Phase is JobPhase.Running or JobPhase.Paused ? _progress.Throughput() : []);

    public async Task ReportEpoch(EpochReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        _job.EnsureExists();
        _job.EnsureFormed(report.Generation, "epoch report");
        _job.EnsureRank(report.Rank);
        _progress.Seen(report.Rank);
        if (_epochs.Accept(report))
        {
            await Save();
        }
    }

    public async Task ReportFailure(FailureReport report)
    {
        var journalled = S.LastEventSequence;
        _lifecycle.Report(report);
        await SaveIfJournalled(journalled);
    }

    public Task<EpochPlanResult> GetEpochPlan(long generation, int epoch) => Task.FromResult(_epochs.PlanFor(generation, epoch));

    // ---------------------------------------------------------------- checkpoint registry

    public async Task<CheckpointTicket> BeginCheckpoint(CheckpointRequest request)
    {
        var ticket = _checkpoints.Begin(request);
        await Save();
        return ticket;
    }

    public async Task<CheckpointRecord> CommitCheckpoint(CheckpointCommit commit)
    {
        CheckpointRecord record;
        try
        {
            record = _checkpoints.Commit(commit);
        }
        catch (CheckpointRejectedException)
        {
            await Save(); // the upload is forgotten either way
            throw;
        }

        await Save();
        return record;
    }

    public async Task AbortCheckpoint(CheckpointAbort abort)
    {
        _checkpoints.Abort(abort);
        await Save();
    }

    public async Task RejectRestore(RestoreRejection rejection)
    {
        if (_checkpoints.RejectRestore(rejection))
        {
            _lifecycle.RestoreRejected(rejection);
        }

        await Save();
    }

    public Task<IReadOnlyList<CheckpointRecord>> GetCheckpoints() => Task.FromResult(_checkpoints.Committed());

    public Task<JobSummary> UpdateSchedule(ScheduleUpdate update) => Decide(() => _epochs.Update(update));

    public Task<CheckpointAccessDecision> AuthorizeUpload(long generation, string checkpointId, string token) =>
        Task.FromResult(_checkpoints.Authorize(generation, checkpointId, token, upload: true));

    public Task<CheckpointAccessDecision> AuthorizeDownload(long generation, string checkpointId, string token) =>
        Task.FromResult(_checkpoints.Authorize(generation, checkpointId, token, upload: false));

    // ---------------------------------------------------------------- persistence, timers and pushes

    private async Task<JobSummary> Decide(Action decision)
    {
        decision();
        await Save();
        return JobSummaryProjection.Of(S);
    }

    /// <summary>Persists, brings the timers in line with the phase, then delivers the orders the change decided.</summary>
    private async Task Save()
    {
        var orders = _job.TakeOrders();
        S.UpdatedAt = _job.Now;
        await _state.WriteStateAsync();
        JobTelemetry.Workers(_job.JobId, S);
        SyncTimers();
        foreach (var order in orders)
        {
            Deliver(order);
        }

        await SyncAliveReminder();
    }

    /// <summary>Holds <see cref="JobAliveReminder"/> while the rule wants it. A failure is logged, not thrown: the
    /// change is already persisted, and the next save or activation tries again.</summary>
    private async Task SyncAliveReminder()
    {
        var wanted = JobAliveReminder.Wanted(S);
        try
        {
            if (!_aliveReminderKnown)
            {
                _aliveReminder = await this.GetReminder(JobAliveReminder.Name);
                _aliveReminderKnown = true;
            }

            if (wanted && _aliveReminder is null)
            {
                _aliveReminder = await this.RegisterOrUpdateReminder(JobAliveReminder.Name, JobAliveReminder.Period, JobAliveReminder.Period);
            }
            else if (!wanted && _aliveReminder is { } held)
            {
                await this.UnregisterReminder(held);
                _aliveReminder = null;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _aliveReminderKnown = false;
            JobLog.ReminderFailed(_logger, _job.JobId, wanted ? "register" : "unregister", JobAliveReminder.Name, e);
        }
    }

    private void SyncTimers()
    {
        if (S.Phase == JobPhase.Rendezvous)
        {
            ArmRendezvousTimers();
        }
        else
        {
            CancelRendezvousTimers();
        }

        if (S.Phase is JobPhase.Running or JobPhase.Paused)
        {
            if (_progress.Generation != S.FormedGeneration || _livenessTimer is null)
            {
                _progress.Start();
                _livenessTimer?.Dispose();
                _livenessTimer = this.RegisterGrainTimer(OnLivenessCheck, new GrainTimerCreationOptions(LivenessCheckPeriod, LivenessCheckPeriod) { KeepAlive = true });
            }
        }
        else if (_livenessTimer is not null)
        {
            _livenessTimer.Dispose();
            _livenessTimer = null;
            _progress.Reset();
        }
    }

    private void ArmRendezvousTimers()
    {
        if (S.RendezvousDeadline is { } deadline)
        {
            _deadlineTimer?.Dispose();
            var due = deadline - _job.Now;
            _deadlineTimer = this.RegisterGrainTimer(() => OnTimer(_rendezvous.DeadlinePassed),
                new GrainTimerCreationOptions(due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan) { KeepAlive = true });
        }

        if (S.Registrations.Count >= S.Spec!.Workers.Min && _graceTimer is null)
        {
            _graceTimer = this.RegisterGrainTimer(() => OnTimer(_rendezvous.GraceElapsed),
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

    private async Task OnTimer(Action decision)
    {
        var journalled = S.LastEventSequence;
        decision();
        await SaveIfJournalled(journalled);
        SweepStagingIfDue();
    }

    private void SweepStagingIfDue()
    {
        if (_checkpoints.TakeStagingSweep())
        {
            SweepStaging();
        }
    }

    /// <summary>Staging files of checkpoints no longer pending go; the sealer reads the folder, not this turn.
    /// Not awaited: a sweep that fails is retried by the next one.</summary>
    private void SweepStaging() =>
        GrainFactory.GetGrain<ICheckpointSealerGrain>(_job.JobId).Sweep([.. S.PendingCheckpoints.Keys], [.. S.Checkpoints.Select(c => c.CheckpointId)], _job.Now).Ignore();

    /// <summary>Every change a decision makes is journalled; one that journalled nothing changed nothing.</summary>
    private Task SaveIfJournalled(long lastSequenceBefore) => S.LastEventSequence != lastSequenceBefore ? Save() : Task.CompletedTask;

    private TimeSpan LivenessCheckPeriod => TimeSpan.FromSeconds(Math.Clamp(_options.WorkerLivenessTimeoutSeconds / 4, 0.1, 5));

    private async Task OnLivenessCheck()
    {
        if (S.Phase is not (JobPhase.Running or JobPhase.Paused))
        {
            return;
        }

        if (_progress.Silent(TimeSpan.FromSeconds(_options.WorkerLivenessTimeoutSeconds), LivenessCheckPeriod) is { } silent)
        {
            var (member, silence) = silent;
            _lifecycle.GroupFailed($"rank {member.Rank} ({member.WorkerId} on {member.Host}, {member.Address}) failed: no progress for {(int)silence.TotalSeconds} s", member.Rank);
            await Save();
        }
    }

    /// <summary>Tells each member, after this turn; a member that cannot be reached is reported as failed.</summary>
    private void Deliver(MemberOrder order)
    {
        var timeout = TimeSpan.FromSeconds(_options.WorkerCallTimeoutSeconds);
        foreach (var member in order.Members)
        {
            Func<IWorkerGrain, Task> call;
            if (order.Kind == MemberOrderKind.StartTraining)
            {
                // Built now, from the state that was just persisted.
                var assignment = _rendezvous.AssignmentFor(member);
                call = worker => worker.StartTraining(assignment);
            }
            else
            {
                call = order.Kind switch
                {
                    MemberOrderKind.Pause => worker => worker.Pause(new PauseRequest(_job.JobId, order.Generation, order.Reason)),
                    MemberOrderKind.Resume => worker => worker.Resume(new ResumeRequest(_job.JobId, order.Generation, order.Reason)),
                    MemberOrderKind.EpochReady => worker => worker.EpochReady(new EpochReadyNotice(_job.JobId, order.Generation, order.Epoch)),
                    _ => worker => worker.Stop(new StopRequest(_job.JobId, order.Generation, order.Reason, order.Rejoin)),
                };
            }

            _ = DeliverOne(order, member, timeout, call);
        }
    }

    private async Task DeliverOne(MemberOrder order, PeerInfo member, TimeSpan timeout, Func<IWorkerGrain, Task> call)
    {
        await Task.Yield(); // leave the deciding turn first
        var key = WorkerGrainKey.For(member.WorkerId, member.DeviceId);
        try
        {
            await call(GrainFactory.GetGrain<IWorkerGrain>(key)).WaitAsync(timeout);
        }
        catch (Exception e)
        {
            JobLog.PushFailed(_logger, _job.JobId, order.Kind.ToString(), key, e);
            if (!order.ReportUndelivered)
            {
                return;
            }

            try
            {
                await this.AsReference<IJobGrain>().ReportFailure(new FailureReport
                {
                    Generation = order.Generation,
                    FailedRank = member.Rank,
                    FailedAddress = member.Address,
                    Reason = $"{order.Kind} could not be delivered to {key}: {e.Message}",
                });
            }
            catch (StaleGenerationException)
            {
                // The group already re-formed.
            }
        }
    }
}
