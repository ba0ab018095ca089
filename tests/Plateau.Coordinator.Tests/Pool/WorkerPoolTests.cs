using Plateau.Contracts.Jobs;
using Plateau.Contracts.Pool;
using Plateau.Contracts.Rendezvous;
using Plateau.Coordinator.Pool;
using Plateau.Coordinator.Tests.Jobs.Plain;

namespace Plateau.Coordinator.Tests.Pool;

/// <summary>The pool's scheduling rule, without a silo.</summary>
public sealed class WorkerPoolTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private static readonly string[] FourWorkers = ["w1", "w2", "w3", "w4"];
    private static readonly string[] ShuffledWorkers = ["w3", "w1", "w2", "w4"];
    private readonly ManualClock _clock = new();
    private readonly WorkerPool _pool;

    public WorkerPoolTests() => _pool = new WorkerPool(_clock, Lease);

    private JobStaffing Job(string id, int minutesAgo, int max = 2, JobPhase phase = JobPhase.Rendezvous, int devicesPerWorker = 1, params string[] workers) => new()
    {
        JobId = id,
        Phase = phase,
        CreatedAt = _clock.GetUtcNow().AddMinutes(-minutesAgo),
        MaxWorkers = max,
        DevicesPerWorker = devicesPerWorker,
        Workers = workers,
    };

    private static PoolOffer Idle(string worker, int devices = 1, string? declined = null) => new()
    {
        WorkerId = worker,
        Host = $"host-{worker}",
        DataPlaneAddress = "http://127.0.0.1:7000",
        Devices = [.. Enumerable.Range(0, devices).Select(i => new DeviceInfo($"cpu:{i}", DeviceKind.Cpu, "CPU", 1L << 30))],
        DeclinedJobId = declined,
        DeclineReason = declined is null ? "" : "dataset mismatch",
    };

    private static PoolOffer Serving(string worker, string job) => Idle(worker) with { ServingJobId = job };

    [Fact]
    public void The_oldest_forming_job_is_served_first_up_to_its_max_then_the_next()
    {
        JobStaffing[] jobs = [Job("newer", minutesAgo: 1, max: 1), Job("older", minutesAgo: 5, max: 2)];

        var answers = FourWorkers.Select(w => _pool.Offer(Idle(w), jobs).JobId).ToList();

        Assert.Equal(["older", "older", "newer", null], answers);
        Assert.Equal(["w1", "w2"], _pool.LeasedTo("older"));
    }

    [Fact]
    public void Workers_a_job_holds_itself_count_against_its_max()
    {
        JobStaffing[] jobs = [Job("a", minutesAgo: 5, max: 2, workers: ["x", "y"]), Job("b", minutesAgo: 1, max: 2)];

        Assert.Equal("b", _pool.Offer(Idle("w1"), jobs).JobId);
    }

    [Fact]
    public void Running_and_ended_jobs_get_no_new_workers_and_the_wait_is_explained()
    {
        JobStaffing[] jobs = [Job("running", 5, max: 4, phase: JobPhase.Running, workers: ["x"]), Job("done", 4, phase: JobPhase.Completed)];

        var answer = _pool.Offer(Idle("w1"), jobs);

        Assert.Null(answer.JobId);
        Assert.Equal("no job is forming a group", answer.Message);
    }

    [Fact]
    public void A_job_that_wants_more_devices_per_worker_than_the_worker_has_is_passed_over()
    {
        JobStaffing[] jobs = [Job("wide", 5, devicesPerWorker: 8), Job("narrow", 1)];

        Assert.Equal("narrow", _pool.Offer(Idle("w1", devices: 2), jobs).JobId);
        Assert.Equal("wide", _pool.Offer(Idle("w8", devices: 8), jobs).JobId);
    }

    [Fact]
    public void A_re_forming_job_gets_its_own_survivors_back_first()
    {
        // "a" re-forms (generation 2): its survivors s1, s2 keep serving it and renew their leases; a newer job waits too.
        var jobs = new List<JobStaffing> { Job("a", 10, max: 2), Job("b", 1, max: 2) };
        Assert.Equal("a", _pool.Offer(Idle("s1"), jobs).JobId);
        Assert.Equal("a", _pool.Offer(Idle("s2"), jobs).JobId);
        jobs[0] = jobs[0] with { Workers = ["s1"] }; // generation 2's rendezvous: s2's registration is not in yet
        _clock.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal("a", _pool.Offer(Serving("s1", "a"), jobs).JobId);
        Assert.Equal("a", _pool.Offer(Serving("s2", "a"), jobs).JobId);

        // A fresh worker cannot take the survivors' places, and goes to the next job.
        Assert.Equal("b", _pool.Offer(Idle("fresh"), jobs).JobId);

        // A survivor whose process restarted comes back idle: the job still holds it, so it gets that job back
        // before the older-first rule is asked.
        jobs.Add(Job("oldest", 60, max: 4));
        Assert.Equal("a", _pool.Offer(Idle("s1"), jobs).JobId);
    }

    [Fact]
    public void A_worker_whose_lease_lapsed_frees_its_place()
    {
        JobStaffing[] jobs = [Job("a", 5, max: 1)];
        Assert.Equal("a", _pool.Offer(Idle("dead"), jobs).JobId);
        Assert.Null(_pool.Offer(Idle("w2"), jobs).JobId);

        _clock.Advance(Lease + TimeSpan.FromSeconds(1));

        Assert.Equal("a", _pool.Offer(Idle("w2"), jobs).JobId);
    }

    [Fact]
    public void A_worker_whose_job_ended_goes_back_to_the_pool_and_takes_the_next_job()
    {
        var jobs = new List<JobStaffing> { Job("first", 5, max: 1) };
        Assert.Equal("first", _pool.Offer(Idle("w1"), jobs).JobId);
        jobs.Add(Job("second", 1, max: 1));

        // While "first" runs the worker keeps it; "second" is not given to it.
        jobs[0] = jobs[0] with { Phase = JobPhase.Running, Workers = ["w1"] };
        Assert.Equal("first", _pool.Offer(Serving("w1", "first"), jobs).JobId);

        // "first" completes: the worker's renewal is refused, it comes back idle and is handed "second".
        jobs[0] = jobs[0] with { Phase = JobPhase.Completed };
        Assert.Null(_pool.Offer(Serving("w1", "first"), jobs).JobId);
        Assert.Equal("second", _pool.Offer(Idle("w1"), jobs).JobId);
        Assert.Empty(_pool.LeasedTo("first"));
    }

    [Fact]
    public void Two_jobs_are_served_one_after_another_by_the_same_worker()
    {
        var jobs = new List<JobStaffing> { Job("one", 5, max: 1), Job("two", 1, max: 1) };
        Assert.Equal("one", _pool.Offer(Idle("w1"), jobs).JobId);
        jobs[0] = jobs[0] with { Phase = JobPhase.Running, Workers = ["w1"] };
        Assert.Equal("two", _pool.Offer(Idle("w2"), jobs).JobId); // "one" is full: the second worker takes "two"
        jobs[1] = jobs[1] with { Phase = JobPhase.Cancelled };      // "two" is cancelled
        jobs[0] = jobs[0] with { Phase = JobPhase.Completed };
        jobs.Add(Job("three", 0, max: 2));

        Assert.Equal("three", _pool.Offer(Idle("w1"), jobs).JobId);
        Assert.Equal("three", _pool.Offer(Idle("w2"), jobs).JobId);
    }

    [Fact]
    public void A_declined_job_is_not_handed_to_that_worker_again_while_it_lasts()
    {
        JobStaffing[] jobs = [Job("bad-data", 5, max: 2), Job("other", 1, max: 2)];
        Assert.Equal("bad-data", _pool.Offer(Idle("w1"), jobs).JobId);

        Assert.Equal("other", _pool.Offer(Idle("w1", declined: "bad-data"), jobs).JobId);
        Assert.Equal("other", _pool.Offer(Idle("w1"), jobs).JobId);
        Assert.Equal("bad-data", _pool.Offer(Idle("w2"), jobs).JobId);
    }

    [Fact]
    public void The_same_offers_give_the_same_answers()
    {
        JobStaffing[] jobs = [Job("b", 5), Job("a", 5), Job("c", 9, max: 1)];
        var other = new WorkerPool(_clock, Lease);

        var first = ShuffledWorkers.Select(w => _pool.Offer(Idle(w), jobs).JobId).ToList();
        var second = ShuffledWorkers.Select(w => other.Offer(Idle(w), jobs).JobId).ToList();

        Assert.Equal(["c", "a", "a", "b"], first); // equal submission times: job id order
        Assert.Equal(first, second);
    }

    [Theory]
    [InlineData("", "workerId must be non-empty")]
    [InlineData("a/b", "workerId must be non-empty and without '/'")]
    public void A_bad_offer_gets_no_job_and_says_why(string worker, string message)
    {
        var answer = _pool.Offer(Idle(worker), [Job("a", 1)]);

        Assert.Null(answer.JobId);
        Assert.StartsWith(message, answer.Message, StringComparison.Ordinal);
    }
}
