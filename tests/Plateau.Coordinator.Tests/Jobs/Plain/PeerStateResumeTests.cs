using Plateau.Contracts.Jobs;
using Plateau.Contracts.Rendezvous;
using Plateau.Contracts.Training;
using Plateau.Coordinator.Jobs;

namespace Plateau.Coordinator.Tests.Jobs.Plain;

/// <summary>A re-formed group continues from a survivor's state kept in memory (lose one step, not an epoch);
/// the checkpoint is the fallback when no survivor holds a usable one.</summary>
public sealed class PeerStateResumeTests : IDisposable
{
    private readonly PlainJob _job = new();

    public void Dispose() => _job.Dispose();

    [Fact]
    public async Task AGroupThatLostAWorkerContinuesFromTheSurvivorsStateAfterItsLastStepNotFromTheCheckpoint()
    {
        var checkpoint = await FailAfterACheckpointAtStep(3);

        _job.Rendezvous.Register(JobTestKit.Worker("w0") with { Retained = [Kept("w0", rank: 0, step: 7, cursor: 700)] });
        _job.Rendezvous.Register(JobTestKit.Worker("w1"));

        var source = _job.Rendezvous.AssignmentFor("w1", "cpu:0")!;
        Assert.Null(source.ResumeFrom);
        Assert.Equal(0, source.ResumeFromPeer!.SourceRank);
        Assert.Equal((0, 700L, 7L), (source.FirstEpoch.Epoch, source.FirstEpoch.Cursor, source.FirstEpoch.StartGlobalStep));
        Assert.Equal(3, source.FirstEpoch.EndGlobalStep - source.FirstEpoch.StartGlobalStep); // the 300 samples left of 1000, at 100 a step
        Assert.Equal(source.ResumeFromPeer, _job.Rendezvous.AssignmentFor("w0", "cpu:0")!.ResumeFromPeer);
        Assert.Equal(JobPhase.Running, _job.State.Phase);
        Assert.Contains($"resuming from the state rank 0 of generation 1 (w0/cpu:0) kept in memory after step 7, inside epoch 0 at sample 700 of its order; " +
                        $"only the step in flight is lost (checkpoint {checkpoint.CheckpointId} would restart at step 3)", _job.State.PhaseReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheSourceIsTheSurvivorFurthestAheadAndItsNewRankBroadcasts()
    {
        await FailAfterACheckpointAtStep(3);

        // w1 completed one more step than w2 before the ring broke (its last all-reduce finished, w2's did not).
        _job.Rendezvous.Register(JobTestKit.Worker("w2") with { Retained = [Kept("w2", rank: 0, step: 6, cursor: 600)] });
        _job.Rendezvous.Register(JobTestKit.Worker("w1") with { Retained = [Kept("w1", rank: 1, step: 7, cursor: 700)] });

        var assignment = _job.Rendezvous.AssignmentFor("w2", "cpu:0")!;
        Assert.Equal(0, assignment.ResumeFromPeer!.SourceRank); // w1 sorts first in the new group
        Assert.Equal(7, assignment.ResumeFromPeer.State.GlobalStep);
        Assert.Equal(7, assignment.FirstEpoch.StartGlobalStep);
    }

    [Fact]
    public async Task AKeptStateOlderThanTheCheckpointOrFromAnEarlierGenerationIsNotUsed()
    {
        var checkpoint = await FailAfterACheckpointAtStep(5);

        _job.Rendezvous.Register(JobTestKit.Worker("w0") with { Retained = [Kept("w0", rank: 0, step: 4, cursor: 400)] });
        _job.Rendezvous.Register(JobTestKit.Worker("w1") with { Retained = [Kept("w1", rank: 1, step: 9, cursor: 900) with { Generation = 0 + 7 }] });

        var assignment = _job.Rendezvous.AssignmentFor("w0", "cpu:0")!;
        Assert.Null(assignment.ResumeFromPeer);
        Assert.Equal(checkpoint.CheckpointId, assignment.ResumeFrom!.CheckpointId);
        Assert.Equal(5, assignment.FirstEpoch.StartGlobalStep);
    }

    [Fact]
    public void AStateKeptAtTheEndOfAnEpochTheJobAlreadyClosedContinuesAtTheNextEpochsStart()
    {
        var kept = Kept("w0", rank: 0, step: 10, cursor: 1000);
        var closed = new EpochMetrics { Epoch = 0, GlobalStep = 10 };

        Assert.Equal((0, 1000L, 10L), PeerStateChoice.ResumePoint(kept, []));
        Assert.Equal((1, 0L, 10L), PeerStateChoice.ResumePoint(kept, [closed]));
        Assert.Null(PeerStateChoice.ResumePoint(kept with { GlobalStep = 9, Cursor = 900 }, [closed])); // cannot be: not used
    }

    [Fact]
    public void AKeptStateOfADeviceTheWorkerDoesNotListIsRefusedNamingTheDevice()
    {
        _job.Lifecycle.Submit(JobTestKit.Spec());

        var result = _job.Rendezvous.Register(JobTestKit.Worker("w0") with { Retained = [Kept("w0", rank: 0, step: 7, cursor: 700) with { DeviceId = "cuda:3" }] });

        Assert.Equal(RendezvousStatus.Rejected, result.Status);
        Assert.Equal("worker w0: retained state names device 'cuda:3', which the worker does not list", result.Message);
        Assert.Empty(_job.State.Registrations);
    }

    /// <summary>Forms w0 + w1, commits a checkpoint at <paramref name="step"/> of epoch 0 and loses rank 1.</summary>
    private async Task<Contracts.Checkpoints.CheckpointRecord> FailAfterACheckpointAtStep(long step)
    {
        _job.Formed(JobTestKit.Spec(min: 2, max: 2));
        var checkpoint = await _job.Checkpoint(0, step, [1, 2, 3]);
        _job.Lifecycle.Report(new FailureReport { Generation = 1, ReporterRank = 0, FailedRank = 1, Reason = "connection reset by peer" });
        Assert.Equal(JobPhase.Rendezvous, _job.State.Phase);
        return checkpoint;
    }

    private RetainedState Kept(string worker, int rank, long step, long cursor) => new()
    {
        JobId = _job.Context.JobId,
        DeviceId = "cpu:0",
        Generation = 1,
        Rank = rank,
        Epoch = 0,
        Cursor = cursor,
        GlobalStep = step,
    };
}
