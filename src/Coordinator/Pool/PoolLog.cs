using Microsoft.Extensions.Logging;

namespace Plateau.Coordinator.Pool;

internal static partial class PoolLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Worker pool: worker {WorkerId} → job {JobId}: {Reason}")]
    public static partial void Assigned(ILogger logger, string workerId, string jobId, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Worker pool: worker {WorkerId} waits: {Reason}")]
    public static partial void Idle(ILogger logger, string workerId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Worker pool: worker {WorkerId} gave job {JobId} back: {Reason}")]
    public static partial void Declined(ILogger logger, string workerId, string jobId, string reason);
}
