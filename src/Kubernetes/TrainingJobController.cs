using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Plateau.Kubernetes;

/// <summary>
/// Reconciles every TrainingJob of the namespace every <see cref="TrainingJobControllerOptions.ResyncSeconds"/>:
/// a level-triggered pass (list, then reconcile each) instead of a watch, so a missed event or a
/// coordinator restart costs one interval and nothing else. One object's failure does not stop the others.
/// </summary>
public sealed partial class TrainingJobController(ITrainingJobApi api, TrainingJobReconciler reconciler, IOptions<TrainingJobControllerOptions> options, TimeProvider time, ILogger<TrainingJobController> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(options.Value.ResyncSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            await PassAsync(stoppingToken);
            await Task.Delay(interval, time, stoppingToken);
        }
    }

    /// <summary>One pass over the namespace's TrainingJobs.</summary>
    public async Task PassAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<TrainingJob> items;
        try
        {
            items = await api.ListAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogListFailed(logger, e);
            return;
        }

        foreach (var job in items)
        {
            try
            {
                await reconciler.ReconcileAsync(job, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogReconcileFailed(logger, job.Metadata.Name, e);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "TrainingJob controller: listing TrainingJobs failed; retrying next pass")]
    private static partial void LogListFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "TrainingJob {Name}: reconcile failed; retrying next pass")]
    private static partial void LogReconcileFailed(ILogger logger, string name, Exception exception);
}
