using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Rendezvous;
using Plateau.Contracts.Workers;
using Plateau.ServiceDefaults.Telemetry;
using Plateau.Worker.Checkpointing;

namespace Plateau.Worker.Training;

/// <summary>
/// Rank 0's checkpoints, saved in the background. <see cref="Offer"/> runs on the training thread: it begins
/// the checkpoint with the job (so the job keeps the scheduler state of this moment) and copies the weights
/// to host memory, then returns. One background task writes, hashes, uploads and commits. A checkpoint
/// offered while another is in flight waits in a single slot; a newer one replaces it (superseded, aborted
/// quietly), so saves never queue without bound and the newest state is always the next one saved.
/// </summary>
public sealed partial class CheckpointSaver : IDisposable
{
    private readonly Assignment _assignment;
    private readonly IJobChannel _job;
    private readonly ICheckpointTransport _transport;
    private readonly TimeSpan _callTimeout;
    private readonly CancellationToken _cancellation;
    private readonly ILogger _logger;
    private readonly Func<TagList> _tags;
    private readonly Lock _gate = new();
    private Save? _waiting;
    private Task _running = Task.CompletedTask;

    public CheckpointSaver(Assignment assignment, IJobChannel job, ICheckpointTransport transport, TimeSpan callTimeout,
        ILogger logger, Func<TagList> tags, CancellationToken cancellation)
    {
        _assignment = assignment;
        _job = job;
        _transport = transport;
        _callTimeout = callTimeout;
        _cancellation = cancellation;
        _logger = logger;
        _tags = tags;
    }

    /// <summary>Checkpoints committed by this saver.</summary>
    public int Committed { get; private set; }

    /// <summary>Checkpoints replaced by a newer one before their upload began.</summary>
    public int Superseded { get; private set; }

    private long Generation => _assignment.Generation;

    /// <summary>Begins a checkpoint at <paramref name="position"/> and hands a copy of the weights to the background.
    /// A job that refuses to begin one is logged and counted; training goes on (invariant 5: it never existed).</summary>
    public void Offer(DataParallelStep step, CheckpointPosition position, string? traceParent)
    {
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(position);
        var started = Stopwatch.GetTimestamp();
        CheckpointTicket ticket;
        try
        {
            ticket = Wait(_job.BeginCheckpoint(new CheckpointRequest
            {
                Generation = Generation,
                Rank = _assignment.Rank,
                Epoch = position.Epoch,
                Cursor = position.Cursor,
                GlobalStep = position.GlobalStep,
            }));
        }
        catch (Exception e) when (e is not StaleGenerationException && e is not OperationCanceledException)
        {
            PlateauMetrics.CheckpointFailures.Add(1, _tags());
            Log.Failed(_logger, _assignment.JobId, Generation, e);
            return;
        }

        var save = new Save(ticket, CheckpointSnapshot.Take(step, position, _assignment.Spec.Model.Name, new CheckpointDescription(_assignment.Spec, ticket.Context)), traceParent, started);
        PlateauMetrics.CheckpointStall.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, _tags());
        Save? replaced;
        lock (_gate)
        {
            replaced = _waiting;
            _waiting = save;
            if (_running.IsCompleted)
            {
                _running = Task.Factory.StartNew(SaveWaiting, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            }
        }

        if (replaced is not null)
        {
            Supersede(replaced, save);
        }
    }

    /// <summary>Waits until every offered checkpoint is committed or has failed (the end of training, a stop).</summary>
    public void Drain(CancellationToken cancellationToken)
    {
        Task running;
        lock (_gate)
        {
            running = _running;
        }

        running.Wait(cancellationToken);
    }

    /// <summary>Drops a checkpoint still waiting; one being uploaded finishes or fails on its own.</summary>
    public void Dispose()
    {
        Save? waiting;
        lock (_gate)
        {
            waiting = _waiting;
            _waiting = null;
        }

        waiting?.Snapshot.Dispose();
    }

    private void SaveWaiting()
    {
        while (true)
        {
            Save? save;
            lock (_gate)
            {
                save = _waiting;
                _waiting = null;
                if (save is null)
                {
                    return;
                }
            }

            using (save.Snapshot)
            {
                Write(save);
            }
        }
    }

    private void Write(Save save)
    {
        var position = save.Snapshot.Position;
        using var span = RankSpans.Start(PlateauActivities.Checkpoint, _assignment, position.Epoch, save.TraceParent);
        try
        {
            var path = _transport.StagingPathFor(_assignment, save.Ticket);
            long size;
            string sha;
            using (RankSpans.Start(PlateauActivities.CheckpointWrite, _assignment, position.Epoch))
            {
                (size, sha) = CheckpointFile.Write(path, save.Snapshot);
            }

            using (RankSpans.Start(PlateauActivities.CheckpointUpload, _assignment, position.Epoch))
            {
                _transport.Publish(_job, _assignment, save.Ticket, size, sha, _cancellation);
            }

            CheckpointRecord record;
            using (RankSpans.Start(PlateauActivities.CheckpointCommit, _assignment, position.Epoch))
            {
                record = Wait(_job.CommitCheckpoint(new CheckpointCommit(Generation, save.Ticket.CheckpointId, size, sha)));
            }

            var tags = _tags();
            PlateauMetrics.CheckpointDuration.Record(Stopwatch.GetElapsedTime(save.Started).TotalSeconds, tags);
            PlateauMetrics.CheckpointSize.Record(size, tags);
            PlateauMetrics.Checkpoints.Add(1, tags);
            span?.SetTag("plateau.checkpoint_id", record.CheckpointId);
            Committed++;
            Log.Checkpointed(_logger, _assignment.JobId, record.CheckpointId, size, position.Epoch, position.Cursor, position.GlobalStep);
        }
        catch (Exception e) when (e is StaleGenerationException || e is OperationCanceledException)
        {
            // The generation ended meanwhile: its pending checkpoints are forgotten by the job.
            Log.Abandoned(_logger, _assignment.JobId, Generation, save.Ticket.CheckpointId, e.Message);
        }
        catch (Exception e)
        {
            PlateauMetrics.CheckpointFailures.Add(1, _tags());
            span?.SetStatus(ActivityStatusCode.Error, e.Message);
            // A checkpoint that did not commit does not exist (invariant 5); training goes on and the next
            // one tries again. The job is told, so the failure shows in its events.
            Log.Failed(_logger, _assignment.JobId, Generation, e);
            Abort(new CheckpointAbort(Generation, save.Ticket.CheckpointId, $"{e.GetType().Name}: {e.Message}"));
        }
    }

    private void Supersede(Save replaced, Save by)
    {
        replaced.Snapshot.Dispose();
        Superseded++;
        PlateauMetrics.CheckpointsSuperseded.Add(1, _tags());
        Log.Superseded(_logger, _assignment.JobId, replaced.Ticket.CheckpointId, by.Ticket.CheckpointId);
        Abort(new CheckpointAbort(Generation, replaced.Ticket.CheckpointId, $"superseded by {by.Ticket.CheckpointId} before its upload began", CheckpointAbortKind.Superseded));
    }

    private void Abort(CheckpointAbort abort)
    {
        try
        {
            Wait(_job.AbortCheckpoint(abort));
        }
        catch (Exception e) when (e is StaleGenerationException || e is OperationCanceledException)
        {
            // the generation ended; the job forgot the checkpoint with it
        }
        catch (Exception e)
        {
            Log.Failed(_logger, _assignment.JobId, Generation, e);
        }
    }

    private T Wait<T>(Task<T> call) => call.WaitAsync(_callTimeout, _cancellation).GetAwaiter().GetResult();

    private void Wait(Task call) => call.WaitAsync(_callTimeout, _cancellation).GetAwaiter().GetResult();

    private sealed record Save(CheckpointTicket Ticket, CheckpointSnapshot Snapshot, string? TraceParent, long Started);

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: checkpoint {CheckpointId} committed ({Size} bytes, continues at epoch {Epoch}, cursor {Cursor}, step {Step})")]
        public static partial void Checkpointed(ILogger logger, string jobId, string checkpointId, long size, int epoch, long cursor, long step);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} generation {Generation}: checkpoint not committed")]
        public static partial void Failed(ILogger logger, string jobId, long generation, Exception exception);

        [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: checkpoint {CheckpointId} superseded by {NewerId} while an upload was in flight")]
        public static partial void Superseded(ILogger logger, string jobId, string checkpointId, string newerId);

        [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} generation {Generation}: checkpoint {CheckpointId} abandoned with its generation: {Reason}")]
        public static partial void Abandoned(ILogger logger, string jobId, long generation, string checkpointId, string reason);
    }
}
