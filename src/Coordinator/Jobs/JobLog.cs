using Microsoft.Extensions.Logging;
using Plateau.Contracts.Jobs;

namespace Plateau.Coordinator.Jobs;

internal static partial class JobLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: {From} → {To}: {Reason}")]
    public static partial void Transition(ILogger logger, string jobId, JobPhase from, JobPhase to, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: worker {WorkerId} registered ({Devices} devices): {Status}")]
    public static partial void WorkerRegistered(ILogger logger, string jobId, string workerId, int devices, Plateau.Contracts.Rendezvous.RendezvousStatus status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: registration of worker {WorkerId} rejected: {Problem}")]
    public static partial void WorkerRejected(ILogger logger, string jobId, string? workerId, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: learning rate {OldLr} → {NewLr}: {Reason}")]
    public static partial void LrChanged(ILogger logger, string jobId, double oldLr, double newLr, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: epoch {Epoch} done: {Summary}")]
    public static partial void EpochDone(ILogger logger, string jobId, int epoch, string summary);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: {Operation} to {WorkerGrain} failed")]
    public static partial void PushFailed(ILogger logger, string jobId, string operation, string workerGrain, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: checkpoint {CheckpointId} cannot be restored, falling back: {Problem}")]
    public static partial void RestoreRejected(ILogger logger, string jobId, string checkpointId, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: ignoring {Operation}: {Why}")]
    public static partial void Ignored(ILogger logger, string jobId, string operation, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: could not {Operation} reminder {ReminderName}; retried at the next change or activation")]
    public static partial void ReminderFailed(ILogger logger, string jobId, string operation, string reminderName, Exception exception);
}
