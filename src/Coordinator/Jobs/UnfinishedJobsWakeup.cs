using Microsoft.Extensions.Logging;
using Plateau.Contracts.Jobs;

namespace Plateau.Coordinator.Jobs;

/// <summary>
/// When a coordinator silo starts, activates every job of the catalog, so that a job that was in Rendezvous,
/// Running or Paused when the coordinator stopped arms its timers again (rendezvous deadline, worker liveness)
/// without waiting for a caller. Without it, a running job whose workers died with the coordinator would stay
/// Running until someone asked about it. Activation is idempotent: a second coordinator's wake-up finds the
/// jobs active. This is the fast path: the durable guarantee is each unfinished job's
/// <see cref="JobAliveReminder"/>, whose first tick may come a period (1 minute) after the silo starts.
/// Failures are logged, not fatal: the job then wakes at its reminder's tick or its next call.
/// </summary>
public sealed partial class UnfinishedJobsWakeup(IGrainFactory grains, ILogger<UnfinishedJobsWakeup> logger) : IStartupTask
{
    private const int Parallelism = 8;

    public async Task Execute(CancellationToken cancellationToken)
    {
        IReadOnlyList<string> ids;
        try
        {
            ids = await grains.GetGrain<IJobCatalogGrain>(0).List();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogCatalogFailed(logger, e);
            return;
        }

        var unfinished = 0;
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken }, async (id, _) =>
        {
            try
            {
                if (await grains.GetGrain<IJobGrain>(id).GetSummary() is { } summary && !summary.Phase.IsTerminal())
                {
                    Interlocked.Increment(ref unfinished);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogJobFailed(logger, id, e);
            }
        });
        LogWoken(logger, unfinished, ids.Count);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Woke {Unfinished} unfinished jobs of {Total} in the catalog")]
    private static partial void LogWoken(ILogger logger, int unfinished, int total);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the job catalog at start-up; jobs wake at their reminders' ticks or their next call")]
    private static partial void LogCatalogFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} did not wake at start-up; it wakes at its reminder's tick or its next call")]
    private static partial void LogJobFailed(ILogger logger, string jobId, Exception exception);
}
