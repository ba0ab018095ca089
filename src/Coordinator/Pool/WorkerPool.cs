using System.Globalization;
using Plateau.Contracts.Errors;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Pool;

namespace Plateau.Coordinator.Pool;

/// <summary>
/// Decides which job a pooled worker serves. Deterministic and memory-only (the grain over it persists nothing):
/// <list type="number">
/// <item>A worker that says it serves a job that has not ended keeps it; its lease on that job is renewed.</item>
/// <item>An idle worker that a job which has not ended still holds (registered, member or standby) goes back to that job
/// first: the worker of a re-forming group, or one whose process restarted, returns to its own job.</item>
/// <item>Otherwise it gets the oldest job (submission time, then job id) in Rendezvous that needs workers: whose held
/// workers plus the pooled workers leased to it are fewer than <c>spec.workers.max</c>, that wants no more devices per
/// worker than this worker has, and that this worker has not declined.</item>
/// <item>Otherwise it waits and offers again.</item>
/// </list>
/// A serving worker never comes back to the pool until its job ends, so a re-forming job gets its own survivors back
/// before any other worker, and a running job is never given extra workers (they would only wait on standby): only
/// jobs forming a group are served. A lease lapses after <c>leaseDuration</c> without a renewal (the worker died).
/// </summary>
public sealed class WorkerPool(TimeProvider time, TimeSpan leaseDuration)
{
    private readonly Dictionary<string, PoolLease> _leases = new(StringComparer.Ordinal);
    private readonly HashSet<(string WorkerId, string JobId)> _declined = [];

    /// <summary>Pooled workers counted against <paramref name="jobId"/> now (for tests and logs).</summary>
    public IReadOnlyList<string> LeasedTo(string jobId)
    {
        var now = time.GetUtcNow();
        return [.. _leases.Where(l => l.Value.JobId == jobId && l.Value.Expires > now).Select(l => l.Key).Order(StringComparer.Ordinal)];
    }

    /// <summary>Answers one offer, given every job that has not ended (as the jobs' own state says now).</summary>
    public PoolAnswer Offer(PoolOffer offer, IReadOnlyCollection<JobStaffing> jobs)
    {
        ArgumentNullException.ThrowIfNull(offer);
        ArgumentNullException.ThrowIfNull(jobs);
        if (string.IsNullOrWhiteSpace(offer.WorkerId) || offer.WorkerId.Contains('/', StringComparison.Ordinal))
        {
            return Wait($"workerId must be non-empty and without '/', got {Quote.Value(offer.WorkerId)}");
        }

        if (offer.Devices is null || offer.Devices.Count < 1)
        {
            return Wait($"worker {offer.WorkerId} offers no devices");
        }

        var now = time.GetUtcNow();
        var live = jobs.Where(j => !j.Phase.IsTerminal()).ToList();
        Forget(now, live);
        var worker = offer.WorkerId;
        if (offer.ServingJobId is { } serving)
        {
            if (live.Any(j => j.JobId == serving))
            {
                _leases[worker] = new PoolLease(serving, now + leaseDuration);
                return new PoolAnswer { JobId = serving, Message = $"keep serving job {serving}" };
            }

            _leases.Remove(worker);
            return Wait($"job {serving} has ended or does not exist; offer again when idle");
        }

        _leases.Remove(worker);
        if (offer.DeclinedJobId is { } declined)
        {
            _declined.Add((worker, declined));
        }

        var candidates = live.Where(j => !_declined.Contains((worker, j.JobId)))
            .OrderBy(j => j.CreatedAt).ThenBy(j => j.JobId, StringComparer.Ordinal).ToList();
        if (candidates.FirstOrDefault(j => j.Workers.Contains(worker, StringComparer.Ordinal)) is { } own)
        {
            return Assign(worker, own, now, $"job {own.JobId} still holds worker {worker} ({own.Phase}): it goes back to its own job");
        }

        foreach (var job in candidates.Where(j => j.Phase == JobPhase.Rendezvous))
        {
            var held = Held(job, worker, now);
            if (job.DevicesPerWorker <= offer.Devices.Count && held < job.MaxWorkers)
            {
                return Assign(worker, job, now, string.Create(CultureInfo.InvariantCulture,
                    $"job {job.JobId} (submitted {job.CreatedAt:u}) is forming a group with {held} of at most {job.MaxWorkers} workers"));
            }
        }

        var forming = candidates.Count(j => j.Phase == JobPhase.Rendezvous);
        return Wait(forming == 0
            ? "no job is forming a group"
            : string.Create(CultureInfo.InvariantCulture, $"{forming} jobs forming a group have workers.max workers, or need more than {offer.Devices.Count} devices per worker"));
    }

    /// <summary>The workers a job holds itself plus the pooled workers leased to it, this worker left out.</summary>
    private int Held(JobStaffing job, string worker, DateTimeOffset now) =>
        job.Workers.Where(w => w != worker)
            .Union(_leases.Where(l => l.Key != worker && l.Value.JobId == job.JobId && l.Value.Expires > now).Select(l => l.Key), StringComparer.Ordinal)
            .Count();

    private PoolAnswer Assign(string worker, JobStaffing job, DateTimeOffset now, string message)
    {
        _leases[worker] = new PoolLease(job.JobId, now + leaseDuration);
        return new PoolAnswer { JobId = job.JobId, Message = message };
    }

    /// <summary>Lapsed leases, and what was declined for jobs that ended, are forgotten.</summary>
    private void Forget(DateTimeOffset now, List<JobStaffing> live)
    {
        foreach (var lapsed in _leases.Where(l => l.Value.Expires <= now || live.All(j => j.JobId != l.Value.JobId)).Select(l => l.Key).ToList())
        {
            _leases.Remove(lapsed);
        }

        _declined.RemoveWhere(d => live.All(j => j.JobId != d.JobId));
    }

    private static PoolAnswer Wait(string message) => new() { Message = message };
}
