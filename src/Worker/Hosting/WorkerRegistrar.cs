using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Rendezvous;
using Plateau.Contracts.Workers;
using Plateau.Worker.Training;

namespace Plateau.Worker.Hosting;

/// <summary>
/// Joins the job: activates this worker's WorkerGrains on the local silo, waits for the job to exist,
/// opens the dataset to report what it sees (and keeps it open for the local ranks), and registers the
/// devices and the data-plane address with the JobGrain. Registers again whenever the job re-forms the group (a Stop with Rejoin), once every
/// local trainer has let go of its device. Stops the process when the job ends (if configured).
/// </summary>
public sealed partial class WorkerRegistrar(
    IOptions<WorkerOptions> options,
    WorkerDevices devices,
    WorkerDataPlane dataPlane,
    TrainingDataCache datasets,
    IGrainFactory grains,
    IHostApplicationLifetime lifetime,
    ILogger<WorkerRegistrar> logger) : BackgroundService
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);
    private readonly WorkerOptions _options = options.Value;
    private readonly Channel<long> _rejoin = Channel.CreateUnbounded<long>();
    private long _registeredGeneration;

    /// <summary>The job re-forms after <paramref name="generation"/>: register again (once for all local devices).</summary>
    public void RequestRejoin(string jobId, long generation)
    {
        if (jobId == _options.JobId)
        {
            _rejoin.Writer.TryWrite(generation);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await WaitForStartAsync(stoppingToken);
            foreach (var trainer in devices.Trainers)
            {
                // Activates each WorkerGrain before registering (placement puts it on this silo, named by the worker ID).
                await grains.GetGrain<IWorkerGrain>(WorkerGrainKey.For(devices.WorkerId, trainer.Device.DeviceId)).GetStatus().WaitAsync(TimeSpan.FromSeconds(30), stoppingToken);
            }

            var job = grains.GetGrain<IJobGrain>(_options.JobId);
            var summary = await WaitForJobAsync(job, stoppingToken);

            // Held while this worker serves the job, so its ranks train on the data opened here (the spec's
            // dataset cannot change after submission).
            using var data = datasets.Acquire(summary.Spec.Dataset, summary.Spec.Seed);
            var dataset = data.Data.Summary;
            while (!stoppingToken.IsCancellationRequested)
            {
                var registration = new WorkerRegistration
                {
                    WorkerId = devices.WorkerId,
                    Host = Environment.MachineName,
                    DataPlaneAddress = dataPlane.Address,
                    Devices = devices.Devices,
                    Dataset = dataset,
                    Retained = [.. devices.Trainers.Select(t => t.Retained).OfType<RetainedState>()],
                };
                var result = await job.RegisterWorker(registration).WaitAsync(TimeSpan.FromSeconds(_options.JoinTimeoutSeconds), stoppingToken);
                LogRegistered(logger, devices.WorkerId, _options.JobId, result.Status, result.Generation, result.Message);
                if (result.Status == RendezvousStatus.Rejected)
                {
                    var now = await job.GetSummary();
                    await EndAsync(now?.Phase is JobPhase.Completed or JobPhase.Cancelled ? 0 : 1, $"registration rejected: {result.Message}");
                    return;
                }

                _registeredGeneration = result.Generation;
                if (!await WaitForRejoinOrEndAsync(job, stoppingToken))
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // host shutting down
        }
        catch (Exception e)
        {
            LogJoinFailed(logger, devices.WorkerId, _options.JobId, e);
            await EndAsync(1, e.Message);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        foreach (var trainer in devices.Trainers)
        {
            trainer.StopAndWait("worker shutting down", TimeSpan.FromSeconds(15));
        }
    }

    private async Task WaitForStartAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        await started.Task.WaitAsync(stoppingToken);
    }

    private async Task<JobSummary> WaitForJobAsync(IJobGrain job, CancellationToken stoppingToken)
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(_options.JoinTimeoutSeconds);
        while (DateTimeOffset.UtcNow < deadline)
        {
            if (await job.GetSummary().WaitAsync(TimeSpan.FromSeconds(30), stoppingToken) is { } summary)
            {
                return summary;
            }

            await Task.Delay(PollInterval, stoppingToken);
        }

        throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
            $"job '{_options.JobId}' was not submitted within {_options.JoinTimeoutSeconds} s ({WorkerOptions.SectionName}:JoinTimeoutSeconds)"));
    }

    /// <summary>True: register again (the group re-forms). False: the job ended or the host stops.</summary>
    private async Task<bool> WaitForRejoinOrEndAsync(IJobGrain job, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            using var tick = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            tick.CancelAfter(PollInterval);
            try
            {
                var generation = await _rejoin.Reader.ReadAsync(tick.Token);
                if (generation < _registeredGeneration)
                {
                    continue; // an old generation's stop
                }

                await WaitForTrainersAsync(TimeSpan.FromSeconds(60), stoppingToken);
                return true;
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                // poll the job below
            }

            JobSummary? summary;
            try
            {
                summary = await job.GetSummary().WaitAsync(TimeSpan.FromSeconds(30), stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogPollFailed(logger, devices.WorkerId, _options.JobId, e.Message);
                continue;
            }

            if (summary?.Phase.IsTerminal() == true && _options.ExitWhenJobEnds)
            {
                await WaitForTrainersAsync(TimeSpan.FromSeconds(60), stoppingToken);
                await EndAsync(summary.Phase == JobPhase.Failed ? 1 : 0, $"job {summary.Phase}: {summary.PhaseReason}");
                return false;
            }
        }

        return false;
    }

    private async Task WaitForTrainersAsync(TimeSpan timeout, CancellationToken stoppingToken)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (devices.Trainers.Any(t => t.IsRunning) && DateTimeOffset.UtcNow < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), stoppingToken);
        }
    }

    private Task EndAsync(int exitCode, string reason)
    {
        LogEnding(logger, devices.WorkerId, exitCode, reason);
        Environment.ExitCode = exitCode;
        lifetime.StopApplication();
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker {WorkerId} → job {JobId}: {Status} (generation {Generation}) {Message}")]
    private static partial void LogRegistered(ILogger logger, string workerId, string jobId, RendezvousStatus status, long generation, string message);

    [LoggerMessage(Level = LogLevel.Error, Message = "Worker {WorkerId} could not join job {JobId}")]
    private static partial void LogJoinFailed(ILogger logger, string workerId, string jobId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Worker {WorkerId}: could not read job {JobId}: {Problem}")]
    private static partial void LogPollFailed(ILogger logger, string workerId, string jobId, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker {WorkerId} exits ({ExitCode}): {Reason}")]
    private static partial void LogEnding(ILogger logger, string workerId, int exitCode, string reason);
}
