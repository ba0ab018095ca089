using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Pool;
using Plateau.Coordinator.Configuration;
using Plateau.Coordinator.Jobs;

namespace Plateau.Coordinator.Pool;

/// <summary>
/// The worker pool as a grain (key <see cref="IWorkerPoolGrain.DefaultPool"/>): a thin façade over <see cref="WorkerPool"/>.
/// It reads the jobs from <see cref="IJobCatalogGrain"/> and each job's <see cref="IJobGrain.GetStaffing"/> (at most
/// once per <see cref="RefreshInterval"/>; a job that ended is not read again) and persists nothing: after a coordinator
/// restart the jobs' own state and the serving workers' next lease renewals tell it everything again.
/// </summary>
public sealed class WorkerPoolGrain : Grain, IWorkerPoolGrain
{
    /// <summary>How stale the pool's view of the jobs may be.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time;
    private readonly ILogger<WorkerPoolGrain> _logger;
    private readonly WorkerPool _pool;
    private readonly HashSet<string> _ended = new(StringComparer.Ordinal);
    private List<JobStaffing> _jobs = [];
    private DateTimeOffset _readAt = DateTimeOffset.MinValue;

    public WorkerPoolGrain(IOptions<CoordinatorOptions> options, TimeProvider time, ILogger<WorkerPoolGrain> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _time = time;
        _logger = logger;
        _pool = new WorkerPool(time, TimeSpan.FromSeconds(options.Value.WorkerPoolLeaseSeconds));
    }

    public async Task<PoolAnswer> Offer(PoolOffer offer)
    {
        ArgumentNullException.ThrowIfNull(offer);
        var answer = _pool.Offer(offer, await Jobs());
        if (offer.DeclinedJobId is { } declined)
        {
            PoolLog.Declined(_logger, offer.WorkerId, declined, offer.DeclineReason);
        }

        if (offer.ServingJobId is null)
        {
            if (answer.JobId is { } job)
            {
                PoolLog.Assigned(_logger, offer.WorkerId, job, answer.Message);
            }
            else
            {
                PoolLog.Idle(_logger, offer.WorkerId, answer.Message);
            }
        }

        return answer;
    }

    private async Task<IReadOnlyCollection<JobStaffing>> Jobs()
    {
        var now = _time.GetUtcNow();
        if (now - _readAt < RefreshInterval)
        {
            return _jobs;
        }

        var ids = await GrainFactory.GetGrain<IJobCatalogGrain>(0).List();
        var read = await Task.WhenAll(ids.Where(id => !_ended.Contains(id)).Select(id => GrainFactory.GetGrain<IJobGrain>(id).GetStaffing()));
        var jobs = new List<JobStaffing>(read.Length);
        foreach (var job in read.OfType<JobStaffing>())
        {
            if (job.Phase.IsTerminal())
            {
                _ended.Add(job.JobId);
            }
            else
            {
                jobs.Add(job);
            }
        }

        (_jobs, _readAt) = (jobs, now);
        return _jobs;
    }
}
