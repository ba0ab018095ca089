using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Pool;
using Plateau.Contracts.Rendezvous;
using Plateau.Contracts.Workers;
using Plateau.Worker.Training;

namespace Plateau.Worker.Hosting;

/// <summary>
/// Joins a job: activates this worker's WorkerGrains on the local silo, waits for the job to exist, opens the
/// dataset to report what it sees (and keeps it open for the local ranks while it serves the job), and registers
/// the devices and the data-plane address with the JobGrain. Registers again whenever the job re-forms the group
/// (a Stop with Rejoin), once every local trainer has let go of its device.
/// With <c>Plateau:Worker:JobId</c> set it serves that job only and stops the process when the job ends (if
/// configured). Without it the worker is pooled: it offers itself to the coordinator's
/// <see cref="IWorkerPoolGrain"/>, serves the job the pool names, renews its lease there while serving, and goes
/// back to the pool when that job ends or refuses it.
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
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);
    private readonly WorkerOptions _options = options.Value;
    private readonly Channel<long> _rejoin = Channel.CreateUnbounded<long>();
    private volatile string? _jobId = string.IsNullOrEmpty(options.Value.JobId) ? null : options.Value.JobId;
    private long _registeredGeneration;

    /// <summary>True when no job is configured: the worker serves whichever job the pool hands it.</summary>
    public bool Pooled => string.IsNullOrEmpty(_options.JobId);

    /// <summary>The job this worker serves now (null: a pooled worker between jobs).</summary>
    public string? JobId => _jobId;

    /// <summary>The job re-forms after <paramref name="generation"/>: register again (once for all local devices).</summary>
    public void RequestRejoin(string jobId, long generation)
    {
        if (jobId == _jobId)
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
                await grains.GetGrain<IWorkerGrain>(WorkerGrainKey.For(devices.WorkerId, trainer.Device.DeviceId)).GetStatus().WaitAsync(CallTimeout, stoppingToken);
            }

            if (Pooled)
            {
                await ServePoolAsync(stoppingToken);
                return;
            }

            if (await ServeJobAsync(_options.JobId, stoppingToken) is not { } end)
            {
                return;
            }

            if (end.Rejected)
            {
                await EndAsync(end.Phase is JobPhase.Completed or JobPhase.Cancelled ? 0 : 1, $"registration rejected: {end.Reason}");
            }
            else
            {
                await EndAsync(end.Phase == JobPhase.Failed ? 1 : 0, $"job {end.Phase}: {end.Reason}");
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // host shutting down
        }
        catch (Exception e)
        {
            LogJoinFailed(logger, devices.WorkerId, _jobId ?? "(pool)", e);
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

    /// <summary>Offers this worker to the pool until the host stops; serves each job it is handed to that job's end.</summary>
    private async Task ServePoolAsync(CancellationToken stoppingToken)
    {
        var pool = grains.GetGrain<IWorkerPoolGrain>(IWorkerPoolGrain.DefaultPool);
        var poll = TimeSpan.FromSeconds(_options.PoolPollSeconds);
        var (declined, declineReason) = ((string?)null, "");
        while (!stoppingToken.IsCancellationRequested)
        {
            PoolAnswer answer;
            try
            {
                answer = await pool.Offer(Offer(null, declined, declineReason)).WaitAsync(CallTimeout, stoppingToken);
                (declined, declineReason) = (null, "");
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogPoolUnreachable(logger, devices.WorkerId, e.Message);
                await Task.Delay(poll, stoppingToken);
                continue;
            }

            if (answer.JobId is not { } jobId)
            {
                LogPoolWaiting(logger, devices.WorkerId, answer.Message);
                await Task.Delay(poll, stoppingToken);
                continue;
            }

            LogPoolAssigned(logger, devices.WorkerId, jobId, answer.Message);
            try
            {
                if (await ServeJobAsync(jobId, stoppingToken) is not { } end)
                {
                    return;
                }

                if (end.Rejected && end.Phase?.IsTerminal() != true)
                {
                    (declined, declineReason) = (jobId, $"registration rejected: {end.Reason}");
                }

                LogBackToPool(logger, devices.WorkerId, jobId, end.Rejected ? $"registration rejected: {end.Reason}" : $"job {end.Phase}: {end.Reason}");
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Whatever this worker's ranks still run for the job stops, so the job sees them go and re-forms.
                LogServeFailed(logger, devices.WorkerId, jobId, e);
                foreach (var trainer in devices.Trainers)
                {
                    trainer.StopAndWait($"worker gave job {jobId} back: {e.Message}", TimeSpan.FromSeconds(15));
                }

                (declined, declineReason) = (jobId, e.Message);
            }
            finally
            {
                foreach (var trainer in devices.Trainers)
                {
                    trainer.DropRetained(jobId);
                }

                _jobId = null;
            }
        }
    }

    /// <summary>
    /// Serves one job: waits for it, holds its dataset open, registers (and again whenever the group re-forms) until
    /// the job ends (a pooled worker, or <c>ExitWhenJobEnds</c>) or refuses the registration. Null: the host stops.
    /// </summary>
    private async Task<ServedJobEnd?> ServeJobAsync(string jobId, CancellationToken stoppingToken)
    {
        while (_rejoin.Reader.TryRead(out _))
        {
            // stops of the job served before
        }

        _registeredGeneration = 0;
        _jobId = jobId;
        var job = grains.GetGrain<IJobGrain>(jobId);
        var summary = await WaitForJobAsync(job, jobId, stoppingToken);

        // Held while this worker serves the job, so its ranks train on the data opened here (the spec's
        // dataset cannot change after submission); let go when the job ends.
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
                Retained = [.. devices.Trainers.Select(t => t.Retained).OfType<RetainedState>().Where(r => r.JobId == jobId)],
            };
            var result = await job.RegisterWorker(registration).WaitAsync(TimeSpan.FromSeconds(_options.JoinTimeoutSeconds), stoppingToken);
            LogRegistered(logger, devices.WorkerId, jobId, result.Status, result.Generation, result.Message);
            if (result.Status == RendezvousStatus.Rejected)
            {
                var now = await job.GetSummary().WaitAsync(CallTimeout, stoppingToken);
                return new ServedJobEnd(now?.Phase, result.Message, Rejected: true);
            }

            _registeredGeneration = result.Generation;
            if (await WaitForRejoinOrEndAsync(job, jobId, stoppingToken) is { } end)
            {
                return end;
            }
        }

        return null;
    }

    private async Task WaitForStartAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        await started.Task.WaitAsync(stoppingToken);
    }

    private async Task<JobSummary> WaitForJobAsync(IJobGrain job, string jobId, CancellationToken stoppingToken)
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(_options.JoinTimeoutSeconds);
        while (DateTimeOffset.UtcNow < deadline)
        {
            if (await job.GetSummary().WaitAsync(CallTimeout, stoppingToken) is { } summary)
            {
                return summary;
            }

            await Task.Delay(PollInterval, stoppingToken);
        }

        throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
            $"job '{jobId}' was not submitted within {_options.JoinTimeoutSeconds} s ({WorkerOptions.SectionName}:JoinTimeoutSeconds)"));
    }

    /// <summary>Null: register again (the group re-forms, or the host stops). Otherwise the job ended: a pooled worker
    /// and one that exits with its job learn it here; one that stays (<c>ExitWhenJobEnds: false</c>) keeps polling.
    /// A pooled worker renews its lease with the pool every <c>PoolPollSeconds</c> meanwhile.</summary>
    private async Task<ServedJobEnd?> WaitForRejoinOrEndAsync(IJobGrain job, string jobId, CancellationToken stoppingToken)
    {
        var pool = Pooled ? grains.GetGrain<IWorkerPoolGrain>(IWorkerPoolGrain.DefaultPool) : null;
        var renewEvery = TimeSpan.FromSeconds(_options.PoolPollSeconds);
        var renewed = DateTimeOffset.UtcNow;
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
                return null;
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                // poll the job below
            }

            if (pool is not null && DateTimeOffset.UtcNow - renewed >= renewEvery)
            {
                renewed = DateTimeOffset.UtcNow;
                try
                {
                    await pool.Offer(Offer(jobId, null, "")).WaitAsync(CallTimeout, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogPoolUnreachable(logger, devices.WorkerId, e.Message);
                }
            }

            JobSummary? summary;
            try
            {
                summary = await job.GetSummary().WaitAsync(CallTimeout, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogPollFailed(logger, devices.WorkerId, jobId, e.Message);
                continue;
            }

            if (summary?.Phase.IsTerminal() == true && (Pooled || _options.ExitWhenJobEnds))
            {
                await WaitForTrainersAsync(TimeSpan.FromSeconds(60), stoppingToken);
                return new ServedJobEnd(summary.Phase, summary.PhaseReason, Rejected: false);
            }
        }

        return null;
    }

    private PoolOffer Offer(string? serving, string? declined, string declineReason) => new()
    {
        WorkerId = devices.WorkerId,
        Host = Environment.MachineName,
        DataPlaneAddress = dataPlane.Address,
        Devices = devices.Devices,
        ServingJobId = serving,
        DeclinedJobId = declined,
        DeclineReason = declineReason,
    };

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

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker {WorkerId} (pooled) → job {JobId}: {Reason}")]
    private static partial void LogPoolAssigned(ILogger logger, string workerId, string jobId, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Worker {WorkerId} (pooled) waits for a job: {Reason}")]
    private static partial void LogPoolWaiting(ILogger logger, string workerId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Worker {WorkerId}: the worker pool did not answer: {Problem}")]
    private static partial void LogPoolUnreachable(ILogger logger, string workerId, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker {WorkerId} goes back to the pool from job {JobId}: {Reason}")]
    private static partial void LogBackToPool(ILogger logger, string workerId, string jobId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Worker {WorkerId} gives job {JobId} back to the pool")]
    private static partial void LogServeFailed(ILogger logger, string workerId, string jobId, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker {WorkerId} exits ({ExitCode}): {Reason}")]
    private static partial void LogEnding(ILogger logger, string workerId, int exitCode, string reason);
}
