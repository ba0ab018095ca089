using Plateau.Contracts.Jobs;
using Plateau.Contracts.Rendezvous;
using Plateau.Coordinator.Jobs;

namespace Plateau.Coordinator.Tests.Jobs.Plain;

public sealed class WorkerRendezvousTests : IDisposable
{
    private readonly PlainJob _job = new();

    public void Dispose() => _job.Dispose();

    [Fact]
    public async Task AWorkerWithTooFewDevicesIsRejectedWithTheReasonAndNotCounted()
    {
        _job.Lifecycle.Submit(JobTestKit.Spec() with { Workers = new() { Min = 1, Max = 2, DevicesPerWorker = 2 }, Batch = new() { Global = 100 } });

        var result = _job.Rendezvous.Register(JobTestKit.Worker("w0", devices: 1));

        Assert.Equal(RendezvousStatus.Rejected, result.Status);
        Assert.Equal("worker w0 offers 1 devices but the job needs devicesPerWorker 2", result.Message);
        Assert.Empty(_job.State.Registrations);
    }

    [Fact]
    public async Task TheGroupFormsWhenWorkersMaxJoinedAndEveryMemberIsToldToStart()
    {
        var orders = _job.Formed(JobTestKit.Spec(min: 2, max: 2));

        var start = Assert.Single(orders);
        Assert.Equal(MemberOrderKind.StartTraining, start.Kind);
        Assert.Equal(["w0", "w1"], start.Members.Select(m => m.WorkerId));
        Assert.Equal((100, 50, 10L), (_job.State.GlobalBatch, _job.State.PerRankBatch, _job.State.StepsPerEpoch));
        var assignment = _job.Rendezvous.AssignmentFor("w1", "cpu:0")!;
        Assert.Equal((1, 2, 1L), (assignment.Rank, assignment.WorldSize, assignment.Generation));
        Assert.Equal(32, assignment.CollectiveSecret.Length);
    }

    [Fact]
    public async Task AWorkerJoiningARunningGroupWaitsOnStandby()
    {
        _job.Formed(JobTestKit.Spec(min: 2, max: 2));

        var result = _job.Rendezvous.Register(JobTestKit.Worker("w9"));

        Assert.Equal(RendezvousStatus.Standby, result.Status);
        Assert.Equal(["w9"], _job.State.Standby.Select(r => r.WorkerId));
        Assert.Null(_job.Rendezvous.AssignmentFor("w9", "cpu:0"));
    }

    [Fact]
    public async Task AWorkerSeeingADifferentDatasetIsRejected()
    {
        _job.Lifecycle.Submit(JobTestKit.Spec(min: 2, max: 2));
        _job.Rendezvous.Register(JobTestKit.Worker("w0"));

        var result = _job.Rendezvous.Register(JobTestKit.Worker("w1", dataset: JobTestKit.Dataset with { Classes = 100 }));

        Assert.Equal(RendezvousStatus.Rejected, result.Status);
        Assert.StartsWith("dataset mismatch: worker w1 sees 1000 train / 200 validation samples, 100 classes", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheDeadlineFailsAJobThatHasFewerThanWorkersMinAndNamesWhoJoined()
    {
        _job.Lifecycle.Submit(JobTestKit.Spec(min: 2, max: 2, timeoutSeconds: 30));
        _job.Rendezvous.Register(JobTestKit.Worker("w0"));

        _job.Rendezvous.DeadlinePassed();

        Assert.Equal(JobPhase.Failed, _job.State.Phase);
        Assert.Equal("rendezvous for generation 1 timed out after 30 s: 1 of 2 required workers joined (w0 on host-w0)", _job.State.PhaseReason);
    }

    [Fact]
    public async Task AfterTheGraceTheGroupFormsWithTheWorkersThatJoined()
    {
        var job = new PlainJob(graceSeconds: 5);
        job.Lifecycle.Submit(JobTestKit.Spec(min: 1, max: 3));
        job.Rendezvous.Register(JobTestKit.Worker("w0"));
        job.Rendezvous.Register(JobTestKit.Worker("w1"));
        Assert.Equal(JobPhase.Rendezvous, job.State.Phase);

        job.Rendezvous.GraceElapsed();

        Assert.Equal(JobPhase.Running, job.State.Phase);
        Assert.Equal(2, job.State.Members.Count);
        job.Dispose();
    }

    [Fact]
    public async Task AFormationAfterAFailureRestoresTheNewestCommittedCheckpoint()
    {
        _job.Formed(JobTestKit.Spec(min: 2, max: 2));
        var record = await _job.Checkpoint(epoch: 1, step: 10, [1, 2, 3]);
        _job.Lifecycle.GroupFailed("rank 1 failed");

        _job.Rendezvous.Register(JobTestKit.Worker("w0"));
        _job.Rendezvous.Register(JobTestKit.Worker("w1"));

        Assert.Equal(JobPhase.Running, _job.State.Phase);
        Assert.Equal(record.CheckpointId, _job.State.ResumeFrom?.CheckpointId);
        Assert.Equal((1, 10L), (_job.State.CurrentPlan!.Epoch, _job.State.CurrentPlan.StartGlobalStep));
    }
}
