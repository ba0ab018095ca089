using Plateau.Contracts.Jobs;
using Plateau.Contracts.Pool;
using Plateau.Contracts.Rendezvous;
using Plateau.Coordinator.Tests.Jobs;
using static Plateau.Coordinator.Tests.Jobs.JobTestKit;

namespace Plateau.Coordinator.Tests.Pool;

/// <summary>The pool grain in a coordinator silo: a pooled (fake) worker is handed submitted jobs one after another.</summary>
public sealed class WorkerPoolGrainTests(CoordinatorCluster fixture) : IClassFixture<CoordinatorCluster>
{
    private readonly IGrainFactory _grains = fixture.Grains;

    private static PoolOffer Offer(WorkerRegistration worker, string? serving = null) => new()
    {
        WorkerId = worker.WorkerId,
        Host = worker.Host,
        DataPlaneAddress = worker.DataPlaneAddress,
        Devices = worker.Devices,
        ServingJobId = serving,
    };

    [Fact]
    public async Task A_pooled_worker_is_handed_a_submitted_job_trains_it_and_takes_the_next_when_it_ends()
    {
        var pool = _grains.GetGrain<IWorkerPoolGrain>(IWorkerPoolGrain.DefaultPool);
        var worker = Worker(NewJobId("pooled"));
        var first = NewJobId("first");
        var second = NewJobId("second");

        await _grains.GetGrain<IJobGrain>(first).Submit(Spec(min: 1, max: 1));
        var handed = await Eventually(() => pool.Offer(Offer(worker)), a => a.JobId is not null, "the pool hands out the first job");
        Assert.Equal(first, handed.JobId);

        // What the worker's registrar does with it: register with that job, which forms and starts training.
        var job = _grains.GetGrain<IJobGrain>(first);
        Assert.Equal(RendezvousStatus.Formed, (await job.RegisterWorker(worker)).Status);
        var assignment = await Eventually(
            () => Task.FromResult(FakeWorkerGrain.CallsOf(worker.WorkerId, "cpu:0").OfType<Assignment>().LastOrDefault()),
            a => a is not null, "StartTraining to the pooled worker");
        Assert.Equal((first, 1L, 0), (assignment!.JobId, assignment.Generation, assignment.Rank));
        var staffing = await job.GetStaffing();
        Assert.Equal((JobPhase.Running, 1), (staffing!.Phase, staffing.MaxWorkers));
        Assert.Equal([worker.WorkerId], staffing.Workers);

        // A second job submitted meanwhile is not given to the busy worker: it renews its lease on the first.
        await _grains.GetGrain<IJobGrain>(second).Submit(Spec(min: 1, max: 1));
        Assert.Equal(first, (await pool.Offer(Offer(worker, serving: first))).JobId);

        // The first job ends: the lease is not renewed, and the idle worker is handed the second job.
        await job.Cancel("done with it");
        var back = await Eventually(() => pool.Offer(Offer(worker, serving: first)), a => a.JobId is null, "the pool lets go of the ended job");
        Assert.Contains("has ended", back.Message, StringComparison.Ordinal);
        Assert.Equal(second, (await pool.Offer(Offer(worker))).JobId);
        Assert.Equal(RendezvousStatus.Formed, (await _grains.GetGrain<IJobGrain>(second).RegisterWorker(worker)).Status);
    }

    [Fact]
    public async Task GetStaffing_of_a_job_never_submitted_is_null()
    {
        Assert.Null(await _grains.GetGrain<IJobGrain>(NewJobId("never")).GetStaffing());
    }
}
