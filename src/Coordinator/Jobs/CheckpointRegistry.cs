using System.Globalization;
using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Errors;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Specs;
using Plateau.Coordinator.Checkpoints;

namespace Plateau.Coordinator.Jobs;

/// <summary>
/// The job's checkpoints: begin (room for an upload), commit (sealed by the storage, then recorded), abort,
/// retention (the latest <c>spec.checkpoint.keep</c>), who may upload or download, and which checkpoint a
/// new generation restores. A checkpoint is recorded only after the storage sealed (verified) and committed it.
/// </summary>
public sealed class CheckpointRegistry(JobContext job, JobJournal journal, ICheckpointStorage store)
{
    /// <summary>Paths for workers that mount the storage; a storage that is no shared directory gives none, and
    /// such a worker is told to move checkpoints through CheckpointTransfer instead.</summary>
    private readonly ISharedCheckpointDirectory? _shared = store as ISharedCheckpointDirectory;

    private JobState S => job.State;

    /// <summary>Checkpoint ids sort by generation, epoch and step.</summary>
    public static string IdFor(CheckpointRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return string.Create(CultureInfo.InvariantCulture, $"ckpt-g{request.Generation:D4}-e{request.Epoch:D4}-s{request.GlobalStep:D10}");
    }

    public CheckpointTicket Begin(CheckpointRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        job.EnsureExists();
        job.EnsureFormed(request.Generation, "checkpoint");
        if (S.Phase is not (JobPhase.Running or JobPhase.Paused or JobPhase.Completed))
        {
            throw new JobTransitionException(job.JobId, S.Phase, "begin a checkpoint");
        }

        var id = IdFor(request);
        store.BeginUpload(job.JobId, id);
        S.PendingCheckpoints[id] = new PendingCheckpoint(request, S.Scheduler);
        var context = new CheckpointContext { Scheduler = S.Scheduler, LastEpoch = S.Metrics.LastOrDefault(m => m.Epoch < request.Epoch) };
        return new CheckpointTicket(id, request.Generation, _shared?.StagingPath(job.JobId, id), context);
    }

    /// <summary>Commits the sealed upload in the storage and records it; a rejected one is forgotten (the state must
    /// be persisted either way). Reads no bytes: sealing verified them before (<see cref="ICheckpointStorage.Commit"/>).</summary>
    public CheckpointRecord Commit(CheckpointCommit commit)
    {
        ArgumentNullException.ThrowIfNull(commit);
        job.EnsureExists();
        job.EnsureFormed(commit.Generation, "checkpoint commit");
        if (!S.PendingCheckpoints.Remove(commit.CheckpointId, out var pending))
        {
            throw new CheckpointRejectedException(commit.CheckpointId, $"was not begun in generation {commit.Generation}");
        }

        var request = pending.Request;
        var stored = store.Commit(job.JobId, commit.CheckpointId, commit.SizeBytes, commit.Sha256);
        if (!stored.IsSound)
        {
            // A refused commit discards the upload, except when the checkpoint is committed already.
            throw new CheckpointRejectedException(commit.CheckpointId, stored.Fault == StorageFault.AlreadyCommitted ? stored.Problem : stored.Problem + "; upload discarded");
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
            CommittedAt = job.Now,
            Scheduler = pending.Scheduler,
            LearningRate = pending.Scheduler.Lr,
            Metric = MetricBefore(request.Epoch),
            Pinned = IsFirstAfterADrop(request.Epoch),
        };
        S.Checkpoints.Add(record);
        journal.Add(JobEventKind.CheckpointCommitted, $"checkpoint {record.CheckpointId} committed: epoch {record.Epoch}, step {record.GlobalStep}, {record.SizeBytes} bytes", new CheckpointCommittedDetail(record));
        foreach (var dropped in S.Checkpoints.Except(Retained()).ToList())
        {
            S.Checkpoints.Remove(dropped);
            store.Delete(job.JobId, dropped.CheckpointId);
        }

        return record;
    }

    public void Abort(CheckpointAbort abort)
    {
        ArgumentNullException.ThrowIfNull(abort);
        job.EnsureExists();
        job.EnsureFormed(abort.Generation, "checkpoint abort");
        if (!S.PendingCheckpoints.Remove(abort.CheckpointId, out var pending))
        {
            throw new CheckpointRejectedException(abort.CheckpointId, $"was not begun in generation {abort.Generation}");
        }

        store.DiscardUpload(job.JobId, abort.CheckpointId);
        if (abort.Kind == CheckpointAbortKind.Superseded)
        {
            return; // a newer checkpoint replaced it before its upload began: nothing failed
        }

        var request = pending.Request;
        var latest = S.Checkpoints.Count > 0 ? $"the latest committed checkpoint stays {S.Checkpoints[^1].CheckpointId}" : "no checkpoint is committed yet";
        journal.Add(JobEventKind.Failure, $"checkpoint {abort.CheckpointId} (epoch {request.Epoch}, step {request.GlobalStep}) was not saved: {abort.Reason}; training goes on and {latest}", new FailureDetail(null, abort.CheckpointId, abort.Reason));
    }

    public IReadOnlyList<CheckpointRecord> Committed()
    {
        job.EnsureExists();
        return S.Checkpoints.ToList();
    }

    /// <summary>Uploads go to checkpoints begun in the formed generation, downloads come from committed ones;
    /// both carry the token derived from that generation's collective secret.</summary>
    public CheckpointAccessDecision Authorize(long generation, string checkpointId, string token, bool upload)
    {
        if (!S.Exists)
        {
            return new(CheckpointAccessVerdict.UnknownJob, $"job {Quote.Value(job.JobId)} does not exist");
        }

        if (S.FormedGeneration == 0 || generation != S.FormedGeneration)
        {
            return new(CheckpointAccessVerdict.StaleGeneration, $"job {job.JobId}: checkpoint transfer carries generation {generation} but the current generation is {S.Generation}");
        }

        var known = upload ? S.PendingCheckpoints.ContainsKey(checkpointId) : S.Checkpoints.Any(c => c.CheckpointId == checkpointId);
        if (!known)
        {
            return new(CheckpointAccessVerdict.UnknownCheckpoint, $"checkpoint {checkpointId} {(upload ? "was not begun" : "is not committed")} in generation {generation} of job {job.JobId}");
        }

        return CheckpointAccessToken.Matches(S.CollectiveSecret, job.JobId, generation, checkpointId, token)
            ? CheckpointAccessDecision.Allowed
            : new(CheckpointAccessVerdict.BadToken, $"token does not match generation {generation} of job {job.JobId}");
    }

    /// <summary>The newest committed checkpoint that is in place with its size, with its path when the storage is
    /// a shared directory; the newer ones that are not are dropped from the registry and named in the events. Null
    /// when there is none (start from scratch). The restoring worker verifies the SHA-256 (<see cref="RejectRestore"/>).</summary>
    public (CheckpointRecord Record, string? Path)? ChooseRestore()
    {
        if (S.Checkpoints.Count == 0)
        {
            return null;
        }

        var choice = RestoreChoice.Choose(store, job.JobId, S.Checkpoints);
        foreach (var (bad, problem) in choice.Rejected)
        {
            JobLog.RestoreRejected(job.Logger, job.JobId, bad.CheckpointId, problem);
            Drop(bad, $"checkpoint {bad.CheckpointId} cannot be restored and was dropped: {problem}", problem);
        }

        return choice.Record is { } record ? (record, _shared?.CommittedPath(job.JobId, record.CheckpointId)) : null;
    }

    /// <summary>The running generation's restore checkpoint failed the restoring worker's verification: it is
    /// dropped (named in the events) and will not be chosen again. True when it was this generation's origin.</summary>
    public bool RejectRestore(RestoreRejection rejection)
    {
        ArgumentNullException.ThrowIfNull(rejection);
        job.EnsureExists();
        job.EnsureFormed(rejection.Generation, "restore rejection");
        if (S.ResumeFrom?.CheckpointId != rejection.CheckpointId || S.Checkpoints.FirstOrDefault(c => c.CheckpointId == rejection.CheckpointId) is not { } bad)
        {
            return false;
        }

        S.ResumeFrom = null;
        S.ResumePath = null;
        Drop(bad, $"checkpoint {bad.CheckpointId} failed verification when rank {rejection.Rank} loaded it and was dropped: {rejection.Problem}", rejection.Problem);
        return true;
    }

    private void Drop(CheckpointRecord bad, string message, string problem)
    {
        S.Checkpoints.Remove(bad);
        journal.Add(JobEventKind.Failure, message, new FailureDetail(null, bad.CheckpointId, problem));
    }

    /// <summary>
    /// What retention keeps: the latest <c>keep</c>, the best <c>keepBest</c> by the selection metric, every pinned
    /// one, and the checkpoint the running generation restored from (a resume must never lose its origin).
    /// </summary>
    public IReadOnlySet<CheckpointRecord> Retained()
    {
        var policy = S.Spec!.Checkpoint;
        var kept = new HashSet<CheckpointRecord>(S.Checkpoints.TakeLast(policy.Keep));
        if (policy.KeepBest > 0)
        {
            var minimise = SelectionMetric() is var metric && PlateauMetricInfo.NaturalMode(metric) == PlateauMode.Min;
            var ranked = S.Checkpoints.Where(c => c.Metric is not null);
            ranked = minimise ? ranked.OrderBy(c => c.Metric) : ranked.OrderByDescending(c => c.Metric);
            kept.UnionWith(ranked.Take(policy.KeepBest));
        }

        kept.UnionWith(S.Checkpoints.Where(c => c.Pinned || c.CheckpointId == S.ResumeFrom?.CheckpointId));
        return kept;
    }

    /// <summary>Pinned: the first checkpoint that continues in an epoch whose rate was dropped (a plateau,
    /// milestone or operator decision); later mid-epoch ones of that epoch are not.</summary>
    private bool IsFirstAfterADrop(int epoch) =>
        S.LrDecisions.Any(d => d.Epoch == epoch && d.NewLr < d.OldLr && d.Kind is LrDecisionKind.Plateau or LrDecisionKind.Milestone or LrDecisionKind.Operator)
        && !S.Checkpoints.Any(c => c.Pinned && c.Epoch == epoch);

    private PlateauMetric SelectionMetric() => (S.PlateauOverride ?? S.Spec!.Schedule.Plateau)?.Metric ?? PlateauMetric.ValTop1Error;

    /// <summary>The selection metric of the epoch that ended just before a checkpoint taken at the start of <paramref name="epoch"/>.</summary>
    private double? MetricBefore(int epoch) =>
        S.Metrics.LastOrDefault(m => m.Epoch == epoch - 1) is not { } m ? null : SelectionMetric() switch
        {
            PlateauMetric.ValTop1Error => m.ValTop1Error,
            PlateauMetric.ValTop5Error => m.ValTop5Error,
            PlateauMetric.ValLoss => m.ValLoss,
            PlateauMetric.ValTop1Accuracy => 1.0 - m.ValTop1Error,
            _ => m.TrainLoss,
        };

    /// <summary>Forgets uploads begun by a generation that no longer runs; their staging files are swept
    /// outside the grain turn (<see cref="TakeStagingSweep"/>).</summary>
    public void ForgetPending()
    {
        S.PendingCheckpoints.Clear();
        _sweepDue = true;
    }

    /// <summary>True once after <see cref="ForgetPending"/>: the grain then asks the sealer to sweep staging.</summary>
    public bool TakeStagingSweep()
    {
        var due = _sweepDue;
        _sweepDue = false;
        return due;
    }

    private bool _sweepDue;
}
