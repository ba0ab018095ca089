using System.Security.Cryptography;
using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Rendezvous;
using Plateau.Contracts.Specs;
using Plateau.Contracts.Training;
using Plateau.Contracts.Workers;
using Plateau.Coordinator.Jobs;
using static Plateau.Coordinator.Tests.Jobs.JobTestKit;

namespace Plateau.Coordinator.Tests.Jobs;

public sealed class JobGrainTests(CoordinatorCluster fixture) : IClassFixture<CoordinatorCluster>
{
    private readonly IGrainFactory _grains = fixture.Grains;

    private async Task<(IJobGrain Job, string A, string B)> FormTwoWorkerJob(JobSpec? spec = null, string stem = "job")
    {
        var id = NewJobId(stem);
        var job = _grains.GetGrain<IJobGrain>(id);
        await job.Submit(spec ?? Spec());
        var (a, b) = ($"{id}-a", $"{id}-b");
        Assert.Equal(RendezvousStatus.Waiting, (await job.RegisterWorker(Worker(b))).Status);
        Assert.Equal(RendezvousStatus.Formed, (await job.RegisterWorker(Worker(a))).Status);
        return (job, a, b);
    }

    private static Task<Assignment> AssignmentPushedTo(string workerId, long generation) =>
        Eventually(
            () => Task.FromResult(FakeWorkerGrain.CallsOf(workerId, "cpu:0").OfType<Assignment>().LastOrDefault()),
            a => a is not null && a.Generation == generation,
            $"StartTraining(generation {generation}) to {workerId}")!;

    /// <summary>What a rank 0 on the shared store does: write the staging file, have it sealed, commit.</summary>
    private async Task<CheckpointRecord> Checkpoint(IJobGrain job, long generation, int epoch, long step, byte[] bytes)
    {
        var ticket = await job.BeginCheckpoint(new CheckpointRequest { Generation = generation, Rank = 0, Epoch = epoch, Cursor = 0, GlobalStep = step });
        await File.WriteAllBytesAsync(ticket.StagingPath!, bytes);
        var commit = new CheckpointCommit(generation, ticket.CheckpointId, bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        await _grains.GetGrain<ICheckpointSealerGrain>(job.GetPrimaryKeyString()).Seal(commit);
        return await job.CommitCheckpoint(commit);
    }

    private static string Json<T>(T value) => System.Text.Json.JsonSerializer.Serialize(value, JobSpecJson.Options);

    [Fact]
    public async Task SubmitMovesTheJobToRendezvousAndSaysWhy()
    {
        var id = NewJobId("submit");

        var summary = await _grains.GetGrain<IJobGrain>(id).Submit(Spec());

        Assert.Equal(JobPhase.Rendezvous, summary.Phase);
        Assert.StartsWith("submitted; waiting for 2 workers until ", summary.PhaseReason, StringComparison.Ordinal);
        var transition = Assert.Single(summary.Transitions);
        Assert.Equal((JobPhase.Pending, JobPhase.Rendezvous, 1L), (transition.From, transition.To, transition.Generation));
    }

    [Fact]
    public async Task InvalidSpecIsRefusedWithFieldErrorsAndCreatesNoJob()
    {
        var job = _grains.GetGrain<IJobGrain>(NewJobId("invalid"));

        var error = await Assert.ThrowsAsync<JobSpecInvalidException>(() => job.Submit(Spec() with { Optimizer = new OptimizerSpec { Lr = -1 } }));

        Assert.Equal("spec.optimizer.lr: must be > 0, got -1", error.Message);
        Assert.Null(await job.GetSummary());
        await Assert.ThrowsAsync<JobNotFoundException>(() => job.Cancel("no such job"));
    }

    [Fact]
    public async Task SubmittingTheSameJobTwiceIsRefused()
    {
        var job = _grains.GetGrain<IJobGrain>(NewJobId("twice"));
        await job.Submit(Spec());

        var error = await Assert.ThrowsAsync<JobTransitionException>(() => job.Submit(Spec()));

        Assert.Contains("a job with this id already exists", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TwoWorkersFormGenerationOneWithRanksOrderedByWorkerId()
    {
        var (job, a, b) = await FormTwoWorkerJob(stem: "form");

        var summary = (await job.GetSummary())!;
        Assert.Equal(JobPhase.Running, summary.Phase);
        Assert.Equal($"generation 1 formed with 2 workers ({a}, {b}), 2 ranks, global batch 100 = 2 × 50; starting from scratch", summary.PhaseReason);
        var first = await AssignmentPushedTo(a, 1);
        var second = await AssignmentPushedTo(b, 1);
        Assert.Equal((0, 1, 2), (first.Rank, second.Rank, first.WorldSize));
        Assert.Equal(32, first.CollectiveSecret.Length);
        Assert.Equal(first.CollectiveSecret, second.CollectiveSecret);
        Assert.Equal([a, b], first.Peers.Select(p => p.WorkerId));
        Assert.Equal((0, 0L, 10L, 0L, 50, true), (first.FirstEpoch.Epoch, first.FirstEpoch.StartGlobalStep, first.FirstEpoch.EndGlobalStep, first.FirstEpoch.Cursor, first.FirstEpoch.PerRankBatch, first.FirstEpoch.Evaluate));
        Assert.Equal(0.1, first.FirstEpoch.LearningRateAt(0));
        Assert.Equal(Json(second with { Rank = 0, WorkerId = a }), Json(first));
        Assert.Equal(Json(first), Json((await job.GetAssignment(a, "cpu:0"))!));
    }

    [Fact]
    public async Task RendezvousDeadlineFailsTheJobNamingWhoJoined()
    {
        var id = NewJobId("deadline");
        var job = _grains.GetGrain<IJobGrain>(id);
        await job.Submit(Spec(timeoutSeconds: 1));
        await job.RegisterWorker(Worker($"{id}-a"));

        var summary = await Eventually(() => SummaryOf(_grains, id), s => s.Phase == JobPhase.Failed, "rendezvous timeout");

        Assert.Equal($"rendezvous for generation 1 timed out after 1 s: 1 of 2 required workers joined ({id}-a on host-{id}-a)", summary.PhaseReason);
        Assert.Equal(RendezvousStatus.Rejected, (await job.RegisterWorker(Worker($"{id}-b"))).Status);
    }

    [Fact]
    public async Task RendezvousWithNoWorkersFailsAtTheDeadline()
    {
        var id = NewJobId("nobody");
        await _grains.GetGrain<IJobGrain>(id).Submit(Spec(timeoutSeconds: 0.5));

        var summary = await Eventually(() => SummaryOf(_grains, id), s => s.Phase == JobPhase.Failed, "rendezvous timeout");

        Assert.EndsWith("0 of 2 required workers joined (none)", summary.PhaseReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AfterMinWorkersJoinedTheGroupFormsWhenTheGracePeriodEnds()
    {
        var id = NewJobId("grace");
        var job = _grains.GetGrain<IJobGrain>(id);
        await job.Submit(Spec(min: 1, max: 2));

        var result = await job.RegisterWorker(Worker($"{id}-a"));

        Assert.Equal(RendezvousStatus.Waiting, result.Status);
        var summary = await Eventually(() => SummaryOf(_grains, id), s => s.Phase == JobPhase.Running, "formation after grace");
        Assert.Equal(1, summary.WorldSize);
        Assert.Equal(100, (await AssignmentPushedTo($"{id}-a", 1)).FirstEpoch.PerRankBatch);
    }

    [Fact]
    public async Task LateWorkerWaitsOnStandbyAndJoinsTheNextGeneration()
    {
        var (job, a, b) = await FormTwoWorkerJob(stem: "late");
        var c = a[..^2] + "-c";

        var late = await job.RegisterWorker(Worker(c));
        Assert.Equal(RendezvousStatus.Standby, late.Status);

        await job.ReportFailure(new FailureReport { Generation = 1, ReporterRank = 0, FailedRank = 1, Reason = "connection reset by peer" });
        var summary = (await job.GetSummary())!;
        Assert.Equal(JobPhase.Rendezvous, summary.Phase);
        Assert.Equal(2, summary.Generation);
        Assert.StartsWith($"rank 1 ({b} on host-{b}, http://127.0.0.1:", summary.PhaseReason, StringComparison.Ordinal);
        Assert.Contains(") failed (reported by rank 0): connection reset by peer; re-forming as generation 2 from scratch (no committed checkpoint) (restart 1 of 3)", summary.PhaseReason, StringComparison.Ordinal);
        var stop = await Eventually(() => Task.FromResult(FakeWorkerGrain.CallsOf(a, "cpu:0").OfType<StopRequest>().FirstOrDefault()), s => s is not null, "Stop to rank 0");
        Assert.True(stop!.Rejoin);

        Assert.Equal(RendezvousStatus.Formed, (await job.RegisterWorker(Worker(a))).Status);
        var assignment = await AssignmentPushedTo(c, 2);
        Assert.Equal((1, 2L), (assignment.Rank, assignment.Generation));
        Assert.Equal([a, c], assignment.Peers.Select(p => p.WorkerId));
    }

    [Fact]
    public async Task StaleGenerationsAreRejected()
    {
        var id = NewJobId("stale");
        var job = _grains.GetGrain<IJobGrain>(id);
        await job.Submit(Spec());
        await Assert.ThrowsAsync<StaleGenerationException>(() => job.ReportProgress(new ProgressReport { Generation = 1, Rank = 0 }));
        await job.RegisterWorker(Worker($"{id}-a"));
        await job.RegisterWorker(Worker($"{id}-b"));
        Assert.Equal(WorkerDirective.Continue, (await job.ReportProgress(new ProgressReport { Generation = 1, Rank = 0, GlobalStep = 3 })).Directive);

        await job.ReportFailure(new FailureReport { Generation = 1, FailedRank = 0, Reason = "killed" });

        var error = await Assert.ThrowsAsync<StaleGenerationException>(() => job.ReportProgress(new ProgressReport { Generation = 1, Rank = 0 }));
        Assert.Equal($"job {id}: progress report carries generation 1 but the current generation is 2", error.Message);
        Assert.Equal((1L, 2L), (error.Reported, error.Current));
        await Assert.ThrowsAsync<StaleGenerationException>(() => job.GetEpochPlan(1, 0));
        await Assert.ThrowsAsync<StaleGenerationException>(() => job.ReportEpoch(Report(1, 0, 0, 10, 50, 100)));
        await Assert.ThrowsAsync<StaleGenerationException>(() => job.BeginCheckpoint(new CheckpointRequest { Generation = 1 }));
        await Assert.ThrowsAsync<StaleGenerationException>(() => job.ReportFailure(new FailureReport { Generation = 1, Reason = "late" }));
    }

    [Fact]
    public async Task EpochCountsAreSummedAcrossRanksAndThePlateauDropIsExplained()
    {
        var (job, _, _) = await FormTwoWorkerJob(stem: "plateau");

        await job.ReportEpoch(Report(1, 0, 0, 10, correct1: 60, total: 100));
        Assert.Equal(EpochPlanStatus.Pending, (await job.GetEpochPlan(1, 1)).Status);
        await job.ReportEpoch(Report(1, 1, 0, 10, correct1: 40, total: 100));
        var metrics = (await job.GetSummary())!.LatestMetrics!;
        Assert.Equal((0.5, 200L, 1.0), (metrics.ValTop1Error!.Value, metrics.ValSamples, metrics.ValLoss!.Value));
        var epoch1 = await job.GetEpochPlan(1, 1);
        Assert.Equal((EpochPlanStatus.Ready, 10L, 20L), (epoch1.Status, epoch1.Plan!.StartGlobalStep, epoch1.Plan.EndGlobalStep));
        Assert.Equal(0.1, epoch1.Plan.LearningRateAt(10));

        await job.ReportEpoch(Report(1, 0, 1, 20, correct1: 45, total: 100));
        await job.ReportEpoch(Report(1, 1, 1, 20, correct1: 45, total: 100));

        var decision = (await job.GetSummary())!.LrDecisions.Single(d => d.Kind == LrDecisionKind.Plateau);
        Assert.Equal("val top-1 error 55.00% did not improve on 50.00% for 1 evaluation (patience 0) → lr 0.1 → 0.01", decision.Reason);
        Assert.Equal((2, 20L, 0.1, 0.1 * 0.1), (decision.Epoch, decision.GlobalStep, decision.OldLr, decision.NewLr));
        var epoch2 = (await job.GetEpochPlan(1, 2)).Plan!;
        Assert.Equal(0.1 * 0.1, epoch2.LearningRateAt(20));

        await job.ReportEpoch(Report(1, 0, 2, 30, correct1: 70, total: 100));
        Assert.Equal("epoch 2 is still open: waiting for the reports of ranks 1", (await job.GetEpochPlan(1, 3)).Message);
        await job.ReportEpoch(Report(1, 1, 2, 30, correct1: 80, total: 100));

        var done = (await job.GetSummary())!;
        Assert.Equal(JobPhase.Completed, done.Phase);
        Assert.StartsWith("trained 3 epochs (step 30); final train loss 1.5000, train top-1 error 50.00% (1000 samples), val top-1 error 25.00%", done.PhaseReason, StringComparison.Ordinal);
        Assert.Equal(EpochPlanStatus.Finished, (await job.GetEpochPlan(1, 3)).Status);
        Assert.Equal([0, 1, 2], done.MetricsHistory.Select(m => m.Epoch));
    }

    [Fact]
    public async Task IterationBudgetWithMilestonesEndsMidEpochAndRecordsTheDrop()
    {
        // CIFAR-style: 25 iterations of 10 per epoch, lr ÷ 10 at iteration 15, evaluation every 2 epochs.
        var spec = Spec(schedule: new ScheduleSpec { Steps = new StepScheduleSpec { Milestones = [15], Unit = ScheduleUnit.Iterations } }) with
        {
            Epochs = null,
            Iterations = 25,
            Evaluation = new EvaluationSpec { EveryEpochs = 2 },
        };
        var (job, _, _) = await FormTwoWorkerJob(spec, "iterations");

        var epoch0 = (await job.GetEpochPlan(1, 0)).Plan!;
        Assert.Equal((3, false), (epoch0.TotalEpochs, epoch0.Evaluate));
        await job.ReportEpoch(Report(1, 0, 0, 10, 50, 100) with { Eval = null });
        await job.ReportEpoch(Report(1, 1, 0, 10, 50, 100) with { Eval = null });
        var epoch1 = (await job.GetEpochPlan(1, 1)).Plan!;
        Assert.Equal((10L, 20L, true), (epoch1.StartGlobalStep, epoch1.EndGlobalStep, epoch1.Evaluate));
        Assert.Equal((0.1, 0.1 * 0.1), (epoch1.LearningRateAt(14), epoch1.LearningRateAt(15)));
        Assert.Equal("milestone 15 iterations reached → lr 0.1 → 0.01 (× 0.1)", (await job.GetSummary())!.LrDecisions.Single(d => d.Kind == LrDecisionKind.Milestone).Reason);
        await job.ReportEpoch(Report(1, 0, 1, 20, 50, 100));
        await job.ReportEpoch(Report(1, 1, 1, 20, 50, 100));

        var last = (await job.GetEpochPlan(1, 2)).Plan!;
        Assert.Equal((20L, 25L, true, true), (last.StartGlobalStep, last.EndGlobalStep, last.Evaluate, last.Checkpoint));
        await job.ReportEpoch(Report(1, 0, 2, 25, 50, 100));
        await job.ReportEpoch(Report(1, 1, 2, 25, 50, 100));
        Assert.StartsWith("trained 25 iterations (step 25)", (await job.GetSummary())!.PhaseReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EvaluationEpochWithoutEvalCountsIsRefused()
    {
        var (job, _, _) = await FormTwoWorkerJob(stem: "noeval");

        var error = await Assert.ThrowsAsync<ArgumentException>(() => job.ReportEpoch(Report(1, 0, 0, 10, 50, 100) with { Eval = null }));

        Assert.StartsWith("epoch 0 is an evaluation epoch: rank 0 must report its eval counts", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailureReformsFromTheLastCommittedCheckpoint()
    {
        var (job, a, b) = await FormTwoWorkerJob(stem: "resume");
        await job.ReportEpoch(Report(1, 0, 0, 10, 60, 100));
        await job.ReportEpoch(Report(1, 1, 0, 10, 40, 100));
        var checkpoint = await Checkpoint(job, 1, epoch: 1, step: 10, bytes: [1, 2, 3, 4, 5]);
        Assert.Equal(0.5, checkpoint.Scheduler!.Best);
        await job.ReportEpoch(Report(1, 0, 1, 20, 45, 100));
        await job.ReportEpoch(Report(1, 1, 1, 20, 45, 100));
        Assert.Equal(0.01, (await job.GetSummary())!.LrDecisions[^1].NewLr, 12);

        await job.ReportFailure(new FailureReport { Generation = 1, ReporterRank = 0, FailedRank = 1, Reason = "collective deadline exceeded" });
        Assert.Contains($"re-forming as generation 2 from checkpoint {checkpoint.CheckpointId} (restart 1 of 3)", (await job.GetSummary())!.PhaseReason, StringComparison.Ordinal);
        await job.RegisterWorker(Worker(b));
        await job.RegisterWorker(Worker(a));

        var assignment = await AssignmentPushedTo(a, 2);
        Assert.Equal(Json(checkpoint), Json(assignment.ResumeFrom));
        Assert.True(File.Exists(assignment.ResumePath));
        Assert.Equal((1, 10L, 0L, 2L), (assignment.FirstEpoch.Epoch, assignment.FirstEpoch.StartGlobalStep, assignment.FirstEpoch.Cursor, assignment.FirstEpoch.Generation));
        var resumed = (await job.GetSummary())!;
        Assert.EndsWith($"resuming from checkpoint {checkpoint.CheckpointId} (epoch 1, step 10)", resumed.PhaseReason, StringComparison.Ordinal);
        // The schedule is the checkpoint's (before epoch 1's drop) and epoch 1 is trained again.
        Assert.Equal(0.1, assignment.FirstEpoch.LearningRateAt(10));
        Assert.Equal([0], resumed.MetricsHistory.Select(m => m.Epoch));
    }

    [Fact]
    public async Task ATruncatedNewestCheckpointIsPassedOverAtFormation()
    {
        var (job, a, b) = await FormTwoWorkerJob(stem: "fallback");
        var older = await Checkpoint(job, 1, epoch: 0, step: 5, bytes: [1, 1, 1]);
        var newer = await Checkpoint(job, 1, epoch: 1, step: 10, bytes: [2, 2, 2]);
        await File.WriteAllBytesAsync(Path.Combine(fixture.CheckpointDirectory, job.GetPrimaryKeyString(), newer.CheckpointId + ".ckpt"), [6]);

        await job.ReportFailure(new FailureReport { Generation = 1, FailedRank = 0, Reason = "killed" });
        await job.RegisterWorker(Worker(a));
        await job.RegisterWorker(Worker(b));

        Assert.Equal(Json(older), Json((await AssignmentPushedTo(a, 2)).ResumeFrom));
        var events = (await job.GetEvents(0, 1000)).Events;
        Assert.Contains(events, e => e.Message == $"checkpoint {newer.CheckpointId} cannot be restored and was dropped: size is 1 bytes, expected 3");
        Assert.Equal([older.CheckpointId], (await job.GetCheckpoints()).Select(c => c.CheckpointId));
    }

    [Fact]
    public async Task ACheckpointRank0FindsCorruptIsDroppedAndTheSameWorkersReformFromThePreviousOneWithoutARestart()
    {
        var (job, a, b) = await FormTwoWorkerJob(stem: "rejected");
        var older = await Checkpoint(job, 1, epoch: 0, step: 5, bytes: [1, 1, 1]);
        var newer = await Checkpoint(job, 1, epoch: 1, step: 10, bytes: [2, 2, 2]);
        await job.ReportFailure(new FailureReport { Generation = 1, FailedRank = 1, Reason = "killed" });
        await job.RegisterWorker(Worker(a));
        await job.RegisterWorker(Worker(b));
        Assert.Equal(newer.CheckpointId, (await AssignmentPushedTo(a, 2)).ResumeFrom!.CheckpointId);

        // Same size, other bytes: only the restoring rank, which hashes the file, can tell.
        await job.RejectRestore(new RestoreRejection(2, newer.CheckpointId, 0, "has SHA-256 00ff, the registry says " + newer.Sha256));

        var summary = (await job.GetSummary())!;
        Assert.Equal((JobPhase.Rendezvous, 3L, 1), (summary.Phase, summary.Generation, summary.Restarts));
        Assert.Contains($"rank 0 could not restore checkpoint {newer.CheckpointId}; re-forming as generation 3 from checkpoint {older.CheckpointId} (not counted as a restart)", summary.PhaseReason, StringComparison.Ordinal);
        var events = (await job.GetEvents(0, 1000)).Events;
        Assert.Contains(events, e => e.Message == $"checkpoint {newer.CheckpointId} failed verification when rank 0 loaded it and was dropped: has SHA-256 00ff, the registry says {newer.Sha256}");
        await job.RegisterWorker(Worker(a));
        await job.RegisterWorker(Worker(b));
        Assert.Equal(Json(older), Json((await AssignmentPushedTo(a, 3)).ResumeFrom));
        Assert.Equal([older.CheckpointId], (await job.GetCheckpoints()).Select(c => c.CheckpointId));
    }

    [Fact]
    public async Task ARejectionOfACheckpointTheGenerationDidNotRestoreChangesNothing()
    {
        var (job, _, _) = await FormTwoWorkerJob(stem: "rejected-other");
        var only = await Checkpoint(job, 1, epoch: 0, step: 5, bytes: [1, 1, 1]);

        await job.RejectRestore(new RestoreRejection(1, only.CheckpointId, 0, "has SHA-256 00ff"));

        Assert.Equal((JobPhase.Running, 1L), ((await job.GetSummary())!.Phase, (await job.GetSummary())!.Generation));
        Assert.Equal([only.CheckpointId], (await job.GetCheckpoints()).Select(c => c.CheckpointId));
    }

    [Fact]
    public async Task CheckpointWithAWrongChecksumIsNotSealedAndCannotBeCommitted()
    {
        var (job, _, _) = await FormTwoWorkerJob(stem: "badsha");
        var ticket = await job.BeginCheckpoint(new CheckpointRequest { Generation = 1, Epoch = 1, GlobalStep = 10 });
        await File.WriteAllBytesAsync(ticket.StagingPath!, [1, 2, 3]);
        var commit = new CheckpointCommit(1, ticket.CheckpointId, 3, new string('a', 64));

        var sealing = await Assert.ThrowsAsync<CheckpointRejectedException>(() => _grains.GetGrain<ICheckpointSealerGrain>(job.GetPrimaryKeyString()).Seal(commit));
        var committing = await Assert.ThrowsAsync<CheckpointRejectedException>(() => job.CommitCheckpoint(commit));

        Assert.Contains("SHA-256 is 039058c6", sealing.Message, StringComparison.Ordinal);
        Assert.Contains($"no upload at", committing.Message, StringComparison.Ordinal);
        Assert.Empty(await job.GetCheckpoints());
        await Assert.ThrowsAsync<CheckpointRejectedException>(() => job.CommitCheckpoint(commit));
    }

    [Fact]
    public async Task AnUploadLeftByAGenerationThatFailedIsSweptWhenTheNextOneForms()
    {
        var (job, a, b) = await FormTwoWorkerJob(stem: "sweep");
        var ticket = await job.BeginCheckpoint(new CheckpointRequest { Generation = 1, Epoch = 1, GlobalStep = 10 });
        await File.WriteAllBytesAsync(ticket.StagingPath!, [1, 2, 3]);
        File.SetLastWriteTimeUtc(ticket.StagingPath!, DateTime.UtcNow.AddMinutes(-1)); // its writer died a while ago

        await job.ReportFailure(new FailureReport { Generation = 1, FailedRank = 0, Reason = "killed mid-upload" });
        Assert.True(File.Exists(ticket.StagingPath));
        await job.RegisterWorker(Worker(a));
        await job.RegisterWorker(Worker(b));

        await Eventually(() => Task.FromResult(File.Exists(ticket.StagingPath)), exists => !exists, $"{ticket.StagingPath} swept");
    }

    [Fact]
    public async Task AnUnsealedUploadCannotBeCommitted()
    {
        var (job, _, _) = await FormTwoWorkerJob(stem: "unsealed");
        var ticket = await job.BeginCheckpoint(new CheckpointRequest { Generation = 1, Epoch = 1, GlobalStep = 10 });
        byte[] bytes = [1, 2, 3];
        await File.WriteAllBytesAsync(ticket.StagingPath!, bytes);

        var error = await Assert.ThrowsAsync<CheckpointRejectedException>(() => job.CommitCheckpoint(new CheckpointCommit(1, ticket.CheckpointId, 3, Convert.ToHexStringLower(SHA256.HashData(bytes)))));

        Assert.Equal($"checkpoint {ticket.CheckpointId}: the upload was never sealed (its size and SHA-256 were not verified); upload discarded", error.Message);
        Assert.False(File.Exists(ticket.StagingPath));
        Assert.Empty(await job.GetCheckpoints());
    }

    [Fact]
    public async Task OlderCheckpointsBeyondKeepAreDeleted()
    {
        var (job, _, _) = await FormTwoWorkerJob(Spec() with { Checkpoint = new CheckpointPolicySpec { Keep = 2 } }, "keep");
        var first = await Checkpoint(job, 1, 0, 3, [1]);
        await Checkpoint(job, 1, 0, 6, [2]);
        await Checkpoint(job, 1, 0, 9, [3]);

        Assert.Equal([6L, 9L], (await job.GetCheckpoints()).Select(c => c.GlobalStep));
        Assert.False(File.Exists(Path.Combine(fixture.CheckpointDirectory, job.GetPrimaryKeyString(), first.CheckpointId + ".ckpt")));
    }

    [Fact]
    public async Task WhenRestartsRunOutTheJobFails()
    {
        var (job, a, _) = await FormTwoWorkerJob(Spec(maxRestarts: 0), "restarts");

        await job.ReportFailure(new FailureReport { Generation = 1, FailedRank = 1, FailedAddress = "10.0.0.7:7100", Reason = "out of memory" });

        var summary = (await job.GetSummary())!;
        Assert.Equal(JobPhase.Failed, summary.Phase);
        Assert.EndsWith(", 10.0.0.7:7100) failed: out of memory; no restarts left (maxRestarts 0)", summary.PhaseReason, StringComparison.Ordinal);
        var stop = await Eventually(() => Task.FromResult(FakeWorkerGrain.CallsOf(a, "cpu:0").OfType<StopRequest>().FirstOrDefault()), s => s is not null, "Stop");
        Assert.False(stop!.Rejoin);
    }

    [Fact]
    public async Task UnreachableWorkerIsTreatedAsAFailedRank()
    {
        var id = NewJobId("unreachable");
        var job = _grains.GetGrain<IJobGrain>(id);
        await job.Submit(Spec());
        FakeWorkerGrain.Unreachable[WorkerGrainKey.For($"{id}-b", "cpu:0")] = true;
        await job.RegisterWorker(Worker($"{id}-a"));
        await job.RegisterWorker(Worker($"{id}-b"));

        var summary = await Eventually(() => SummaryOf(_grains, id), s => s.Phase == JobPhase.Rendezvous, "re-rendezvous after a failed push");

        Assert.Contains($"failed: StartTraining could not be delivered to {id}-b/cpu:0", summary.PhaseReason, StringComparison.Ordinal);
        Assert.Equal(2, summary.Generation);
    }

    [Fact]
    public async Task SkippedNonFiniteStepsAreAWarningAndAJobScopedFailureFailsWithoutARestart()
    {
        var (job, a, _) = await FormTwoWorkerJob(stem: "diverged");

        await job.ReportProgress(new ProgressReport { Generation = 1, Rank = 0, GlobalStep = 7, SkippedSteps = 2 });
        await job.ReportFailure(new FailureReport { Generation = 1, ReporterRank = 0, Reason = "the averaged gradients were NaN or infinite for 10 steps in a row", Scope = FailureScope.Job });
        await job.ReportFailure(new FailureReport { Generation = 1, ReporterRank = 1, Reason = "the same, from rank 1", Scope = FailureScope.Job });

        var summary = (await job.GetSummary())!;
        Assert.Equal((JobPhase.Failed, 0, 1L), (summary.Phase, summary.Restarts, summary.Generation));
        Assert.Contains("rank 0 stopped the job: the averaged gradients were NaN or infinite", summary.PhaseReason, StringComparison.Ordinal);
        var events = (await job.GetEvents(0, 1000)).Events;
        Assert.Contains(events, e => e.Kind == JobEventKind.Warning && e.Message.StartsWith("2 step(s) up to step 7 skipped", StringComparison.Ordinal));
        await Eventually(() => Task.FromResult(FakeWorkerGrain.CallsOf(a, "cpu:0")), calls => calls.OfType<StopRequest>().Any(s => !s.Rejoin), "Stop without rejoin");
    }

    [Fact]
    public async Task AnAbortedCheckpointIsAFailureEventAndThePreviousCheckpointStaysTheLatest()
    {
        var (job, _, _) = await FormTwoWorkerJob(stem: "abort-checkpoint");
        var first = await Checkpoint(job, 1, 1, 10, [1, 2, 3]);
        var ticket = await job.BeginCheckpoint(new CheckpointRequest { Generation = 1, Rank = 0, Epoch = 2, Cursor = 0, GlobalStep = 20 });
        await File.WriteAllBytesAsync(ticket.StagingPath!, [9]);

        await job.AbortCheckpoint(new CheckpointAbort(1, ticket.CheckpointId, "IOException: No space left on device"));

        Assert.False(File.Exists(ticket.StagingPath));
        Assert.Equal([first.CheckpointId], (await job.GetCheckpoints()).Select(c => c.CheckpointId));
        var events = (await job.GetEvents(0, 1000)).Events;
        Assert.Contains(events, e => e.Kind == JobEventKind.Failure && e.Message.Contains($"was not saved: IOException: No space left on device; training goes on and the latest committed checkpoint stays {first.CheckpointId}", StringComparison.Ordinal));
        Assert.Equal(JobPhase.Running, (await job.GetSummary())!.Phase);
        await Assert.ThrowsAsync<CheckpointRejectedException>(() => job.AbortCheckpoint(new CheckpointAbort(1, ticket.CheckpointId, "twice")));
    }

    [Fact]
    public async Task ASlowRankIsReportedAsAStragglerByRankAndHost()
    {
        var (job, _, b) = await FormTwoWorkerJob(stem: "straggler");
        for (var i = 0; i < StragglerDetector.Reports; i++)
        {
            await job.ReportProgress(new ProgressReport { Generation = 1, Rank = 0, GlobalStep = i, OwnSecondsPerStep = 0.1 });
            await job.ReportProgress(new ProgressReport { Generation = 1, Rank = 1, GlobalStep = i, OwnSecondsPerStep = 0.45 });
        }

        var events = (await job.GetEvents(0, 1000)).Events;
        var warning = Assert.Single(events, e => e.Kind == JobEventKind.Warning);
        Assert.StartsWith($"rank 1 ({b} on ", warning.Message, StringComparison.Ordinal);
        Assert.Contains("is a straggler: 0.450 s of its own work per step, 4.5x the other ranks' median of 0.100 s", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithEvictStragglersTheStragglersWorkerLeavesForGoodAndTheOthersReformWithoutARestart()
    {
        var spec = Spec(min: 1, max: 2) with { Workers = new WorkersSpec { Min = 1, Max = 2, RendezvousTimeoutSeconds = 30, EvictStragglers = true } };
        var (job, a, b) = await FormTwoWorkerJob(spec, stem: "evict");
        var directives = new List<WorkerDirective>();
        for (var i = 0; i < StragglerDetector.Reports; i++)
        {
            directives.Add((await job.ReportProgress(new ProgressReport { Generation = 1, Rank = 0, GlobalStep = i, OwnSecondsPerStep = 0.1 })).Directive);
            directives.Add((await job.ReportProgress(new ProgressReport { Generation = 1, Rank = 1, GlobalStep = i, OwnSecondsPerStep = 0.45 })).Directive);
        }

        var evicted = (await job.GetSummary())!;
        Assert.Equal(WorkerDirective.Stop, directives[^1]);
        Assert.Equal((JobPhase.Rendezvous, 0), (evicted.Phase, evicted.Restarts));
        Assert.StartsWith($"worker {b} on host-{b} evicted as a straggler at step 2 (4.5x the other ranks' own work per step; spec.workers.evictStragglers); re-forming as generation 2", evicted.PhaseReason, StringComparison.Ordinal);
        var refused = await job.RegisterWorker(Worker(b));
        Assert.Equal(RendezvousStatus.Rejected, refused.Status);
        Assert.Equal($"worker {b} was evicted from this job as a straggler (spec.workers.evictStragglers) and is not admitted again", refused.Message);
        Assert.Equal(RendezvousStatus.Waiting, (await job.RegisterWorker(Worker(a))).Status);
    }

    [Fact]
    public async Task AStragglerIsNotEvictedWhenTheRestWouldFallBelowWorkersMin()
    {
        var (job, _, b) = await FormTwoWorkerJob(Spec() with { Workers = new WorkersSpec { Min = 2, Max = 2, RendezvousTimeoutSeconds = 30, EvictStragglers = true } }, stem: "no-evict");
        for (var i = 0; i < StragglerDetector.Reports; i++)
        {
            await job.ReportProgress(new ProgressReport { Generation = 1, Rank = 0, GlobalStep = i, OwnSecondsPerStep = 0.1 });
            await job.ReportProgress(new ProgressReport { Generation = 1, Rank = 1, GlobalStep = i, OwnSecondsPerStep = 0.45 });
        }

        Assert.Equal(JobPhase.Running, (await job.GetSummary())!.Phase);
        var warnings = (await job.GetEvents(0, 1000)).Events.Where(e => e.Kind == JobEventKind.Warning).Select(e => e.Message).ToList();
        Assert.Equal(2, warnings.Count);
        Assert.Equal($"worker {b} not evicted: without it 1 workers would remain, fewer than workers.min 2", warnings[1]);
    }

    [Fact]
    public async Task APausedJobWhoseWorkerFailsStaysPausedInTheNextGeneration()
    {
        var (job, a, b) = await FormTwoWorkerJob(stem: "paused-failure");
        await job.Pause("maintenance");

        await job.ReportFailure(new FailureReport { Generation = 1, ReporterRank = 0, FailedRank = 1, Reason = "connection reset by peer" });
        Assert.Equal(JobPhase.Rendezvous, (await job.GetSummary())!.Phase);
        await job.RegisterWorker(Worker(a));
        await job.RegisterWorker(Worker(b));

        var summary = (await job.GetSummary())!;
        Assert.Equal((JobPhase.Paused, 2L), (summary.Phase, summary.Generation));
        Assert.Contains("still paused", summary.PhaseReason, StringComparison.Ordinal);
        Assert.True((await AssignmentPushedTo(a, 2)).StartPaused);
        Assert.Equal(WorkerDirective.Pause, (await job.ReportProgress(new ProgressReport { Generation = 2, Rank = 0 })).Directive);
        Assert.Equal(JobPhase.Running, (await job.Resume("maintenance over")).Phase);
    }

    [Fact]
    public async Task PauseResumeAndCancelFollowTheStateMachine()
    {
        var id = NewJobId("pause");
        var job = _grains.GetGrain<IJobGrain>(id);
        await job.Submit(Spec());
        await Assert.ThrowsAsync<JobTransitionException>(() => job.Pause("too early"));
        await job.RegisterWorker(Worker($"{id}-a"));
        await job.RegisterWorker(Worker($"{id}-b"));

        Assert.Equal(JobPhase.Paused, (await job.Pause("maintenance")).Phase);
        Assert.Equal(WorkerDirective.Pause, (await job.ReportProgress(new ProgressReport { Generation = 1, Rank = 1 })).Directive);
        await Assert.ThrowsAsync<JobTransitionException>(() => job.Pause("again"));
        Assert.Equal(JobPhase.Running, (await job.Resume("done")).Phase);
        var cancelled = await job.Cancel("wrong dataset");

        Assert.Equal("cancelled: wrong dataset", cancelled.PhaseReason);
        Assert.Equal(
            [(JobPhase.Pending, JobPhase.Rendezvous), (JobPhase.Rendezvous, JobPhase.Running), (JobPhase.Running, JobPhase.Paused), (JobPhase.Paused, JobPhase.Running), (JobPhase.Running, JobPhase.Cancelled)],
            cancelled.Transitions.Select(t => (t.From, t.To)));
        var error = await Assert.ThrowsAsync<JobTransitionException>(() => job.Cancel("twice"));
        Assert.Equal($"job {id} is Cancelled: cannot cancel", error.Message);
        await Eventually(() => Task.FromResult(FakeWorkerGrain.CallsOf($"{id}-a", "cpu:0")), calls =>
            calls.OfType<PauseRequest>().Any() && calls.OfType<ResumeRequest>().Any() && calls.OfType<StopRequest>().Any(s => !s.Rejoin), "Pause, Resume and Stop pushes");
        Assert.Equal(WorkerDirective.Stop, (await job.ReportProgress(new ProgressReport { Generation = 1, Rank = 0 })).Directive);
    }

    [Fact]
    public async Task RegistrationsThatCannotTrainAreRejected()
    {
        var id = NewJobId("reject");
        var job = _grains.GetGrain<IJobGrain>(id);
        await job.Submit(Spec() with { Workers = new WorkersSpec { Min = 2, Max = 2, DevicesPerWorker = 2 } });
        await job.RegisterWorker(Worker($"{id}-a", devices: 2));

        var mismatch = await job.RegisterWorker(Worker($"{id}-b", devices: 2, dataset: Dataset with { TrainSamples = 999 }));
        var tooFew = await job.RegisterWorker(Worker($"{id}-c", devices: 1));

        Assert.Equal(RendezvousStatus.Rejected, mismatch.Status);
        Assert.Equal($"dataset mismatch: worker {id}-b sees 999 train / 200 validation samples, 10 classes; worker {id}-a sees 1000 / 200, 10 classes", mismatch.Message);
        Assert.Equal($"worker {id}-c offers 1 devices but the job needs devicesPerWorker 2", tooFew.Message);
    }

    [Fact]
    public async Task AMemberRegisteringAgainMeansItRestartedAndTheGroupReforms()
    {
        var (job, a, b) = await FormTwoWorkerJob(stem: "rejoin");

        var again = await job.RegisterWorker(Worker(b));

        Assert.Equal(RendezvousStatus.Waiting, again.Status);
        var summary = (await job.GetSummary())!;
        Assert.Equal((JobPhase.Rendezvous, 2L), (summary.Phase, summary.Generation));
        Assert.StartsWith($"worker {b} (http://127.0.0.1:", summary.PhaseReason, StringComparison.Ordinal);
        Assert.Equal(RendezvousStatus.Formed, (await job.RegisterWorker(Worker(a))).Status);
    }
}
