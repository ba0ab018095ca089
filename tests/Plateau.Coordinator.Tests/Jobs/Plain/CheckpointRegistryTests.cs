using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Training;
using Plateau.Coordinator.Checkpoints;
using Plateau.Coordinator.Jobs;
using Plateau.Coordinator.Tests.Checkpoints;

namespace Plateau.Coordinator.Tests.Jobs.Plain;

public sealed class CheckpointRegistryTests : IDisposable
{
    private readonly PlainJob _job = new();

    public void Dispose() => _job.Dispose();

    [Fact]
    public async Task ACommittedCheckpointIsRecordedWithTheSchedulerAndAnnounced()
    {
        _job.Formed(JobTestKit.Spec());

        var record = await _job.Checkpoint(epoch: 0, step: 10, [1, 2, 3, 4]);

        Assert.Equal("ckpt-g0001-e0000-s0000000010", record.CheckpointId);
        Assert.Equal(_job.State.Scheduler, record.Scheduler);
        Assert.Equal([record], _job.Checkpoints.Committed());
        Assert.Empty(_job.State.PendingCheckpoints);
        Assert.Contains($"checkpoint {record.CheckpointId} committed: epoch 0, step 10, 4 bytes", _job.EventTexts(JobEventKind.CheckpointCommitted));
    }

    [Fact]
    public void ATicketCarriesTheSchedulerAndTheMetricsOfTheLastEpochFinishedBeforeTheCheckpoint()
    {
        _job.Formed(JobTestKit.Spec());
        _job.State.Metrics.Add(new EpochMetrics { Epoch = 0, ValTop1Error = 0.4 });
        _job.State.Metrics.Add(new EpochMetrics { Epoch = 1, ValTop1Error = 0.3 });

        var insideEpoch1 = _job.Checkpoints.Begin(new CheckpointRequest { Generation = 1, Epoch = 1, Cursor = 32, GlobalStep = 12 });
        var atTheStartOfEpoch2 = _job.Checkpoints.Begin(new CheckpointRequest { Generation = 1, Epoch = 2, GlobalStep = 20 });

        Assert.Equal(_job.State.Scheduler, insideEpoch1.Context?.Scheduler);
        Assert.Equal((0, 1), (insideEpoch1.Context?.LastEpoch?.Epoch, atTheStartOfEpoch2.Context?.LastEpoch?.Epoch));
    }

    [Fact]
    public async Task OnlyTheLatestKeepCheckpointsAreKeptOnDiskAndInTheRegistry()
    {
        _job.Formed(JobTestKit.Spec() with { Checkpoint = new() { Keep = 2 } });

        var first = await _job.Checkpoint(0, 10, [1]);
        await _job.Checkpoint(1, 20, [2]);
        await _job.Checkpoint(2, 30, [3]);

        Assert.Equal(["ckpt-g0001-e0001-s0000000020", "ckpt-g0001-e0002-s0000000030"], _job.Checkpoints.Committed().Select(c => c.CheckpointId));
        Assert.False(File.Exists(_job.Store.CommittedPath(_job.Context.JobId, first.CheckpointId)));
    }

    [Fact]
    public async Task KeepBestKeepsTheLowestValidationErrorsBesideTheLatest()
    {
        _job.Formed(JobTestKit.Spec() with { Checkpoint = new() { Keep = 1, KeepBest = 1 } });
        var errors = new[] { 0.40, 0.25, 0.30, 0.35 };
        var records = new List<CheckpointRecord>();
        for (var epoch = 0; epoch < errors.Length; epoch++)
        {
            _job.State.Metrics.Add(new EpochMetrics { Epoch = epoch, ValTop1Error = errors[epoch] });
            records.Add(await _job.Checkpoint(epoch + 1, 10 * (epoch + 1), [(byte)epoch]));
        }

        Assert.Equal([records[1].CheckpointId, records[3].CheckpointId], _job.Checkpoints.Committed().Select(c => c.CheckpointId));
        Assert.Equal(0.25, _job.Checkpoints.Committed()[0].Metric);
        Assert.True(File.Exists(_job.Store.CommittedPath(_job.Context.JobId, records[1].CheckpointId)));
        Assert.False(File.Exists(_job.Store.CommittedPath(_job.Context.JobId, records[2].CheckpointId)));
    }

    [Fact]
    public async Task TheCheckpointRightAfterALearningRateDropIsPinnedAndOutlivesRetention()
    {
        _job.Formed(JobTestKit.Spec() with { Checkpoint = new() { Keep = 1 } });
        await _job.Checkpoint(1, 10, [1]);
        _job.Epochs.RecordDecision(2, 20, 0.1, 0.01, LrDecisionKind.Plateau, "val top-1 error did not improve");
        var afterDrop = await _job.Checkpoint(2, 20, [2]);
        var latest = await _job.Checkpoint(3, 30, [3]);

        Assert.True(afterDrop.Pinned);
        Assert.Equal([afterDrop.CheckpointId, latest.CheckpointId], _job.Checkpoints.Committed().Select(c => c.CheckpointId));
    }

    [Fact]
    public async Task ACommitOfAnUnsealedUploadIsRefusedAndRecordsNothing()
    {
        _job.Formed(JobTestKit.Spec());
        var kept = await _job.Checkpoint(0, 10, [1]);
        var ticket = _job.Checkpoints.Begin(new CheckpointRequest { Generation = 1, Epoch = 1, GlobalStep = 20 });
        byte[] bytes = [2, 2];
        await _job.Store.WriteUploadAsync(_job.Context.JobId, ticket.CheckpointId, new MemoryStream(bytes));

        var error = Assert.Throws<CheckpointRejectedException>(() => _job.Checkpoints.Commit(
            new CheckpointCommit(1, ticket.CheckpointId, bytes.Length, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)))));

        Assert.Equal($"checkpoint {ticket.CheckpointId}: the upload was never sealed (its size and SHA-256 were not verified); upload discarded", error.Message);
        Assert.Equal([kept], _job.Checkpoints.Committed());
        Assert.Single(_job.EventTexts(JobEventKind.CheckpointCommitted));
        Assert.False(File.Exists(_job.Store.StagingPath(_job.Context.JobId, ticket.CheckpointId)));
    }

    [Fact]
    public async Task OverAStorageWorkersCannotMountTicketsAndRestoresCarryNoPath()
    {
        _job.Formed(JobTestKit.Spec());
        var committed = await _job.Checkpoint(0, 10, [1, 2, 3]);
        var registry = new CheckpointRegistry(_job.Context, _job.Journal, new StorageWithoutSharedDirectory(_job.Store));

        var ticket = registry.Begin(new CheckpointRequest { Generation = 1, Epoch = 1, GlobalStep = 20 });
        var restore = registry.ChooseRestore();

        Assert.Null(ticket.StagingPath);
        Assert.Equal(committed, restore?.Record);
        Assert.Null(restore?.Path);
    }

    [Fact]
    public void ACommitThatWasNeverBegunIsRejected()
    {
        _job.Formed(JobTestKit.Spec());

        var error = Assert.Throws<CheckpointRejectedException>(() => _job.Checkpoints.Commit(new CheckpointCommit(1, "ckpt-made-up", 1, new string('0', 64))));

        Assert.Contains("was not begun in generation 1", error.Message, StringComparison.Ordinal);
        Assert.Empty(_job.Checkpoints.Committed());
    }

    [Fact]
    public async Task UploadsNeedTheGenerationsTokenAndABegunCheckpoint()
    {
        _job.Formed(JobTestKit.Spec());
        var ticket = _job.Checkpoints.Begin(new CheckpointRequest { Generation = 1, Epoch = 0, GlobalStep = 10 });
        var token = CheckpointAccessToken.Compute(_job.State.CollectiveSecret, _job.Context.JobId, 1, ticket.CheckpointId);

        Assert.Equal(CheckpointAccessVerdict.Allowed, _job.Checkpoints.Authorize(1, ticket.CheckpointId, token, upload: true).Verdict);
        Assert.Equal(CheckpointAccessVerdict.BadToken, _job.Checkpoints.Authorize(1, ticket.CheckpointId, token[..^2] + "00", upload: true).Verdict);
        Assert.Equal(CheckpointAccessVerdict.StaleGeneration, _job.Checkpoints.Authorize(2, ticket.CheckpointId, token, upload: true).Verdict);
        Assert.Equal(CheckpointAccessVerdict.UnknownCheckpoint, _job.Checkpoints.Authorize(1, ticket.CheckpointId, token, upload: false).Verdict);
    }

    [Fact]
    public async Task AnAbortedUploadIsForgottenAndTheLatestCommittedOneNamed()
    {
        _job.Formed(JobTestKit.Spec());
        var kept = await _job.Checkpoint(0, 10, [1]);
        var ticket = _job.Checkpoints.Begin(new CheckpointRequest { Generation = 1, Epoch = 1, GlobalStep = 20 });

        _job.Checkpoints.Abort(new CheckpointAbort(1, ticket.CheckpointId, "No space left on device"));

        Assert.Empty(_job.State.PendingCheckpoints);
        Assert.Contains($"was not saved: No space left on device; training goes on and the latest committed checkpoint stays {kept.CheckpointId}", _job.EventTexts(JobEventKind.Failure).Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACheckpointKeepsTheSchedulerOfWhenItWasBegunEvenIfItCommitsAfterTheNextDecision()
    {
        _job.Formed(JobTestKit.Spec());
        var begunWith = _job.State.Scheduler;
        var ticket = _job.Checkpoints.Begin(new CheckpointRequest { Generation = 1, Epoch = 1, Cursor = 32, GlobalStep = 8 });
        _job.State.Scheduler = begunWith with { Lr = begunWith.Lr / 10, Steps = begunWith.Steps + 1 }; // the background upload is still running
        byte[] bytes = [7, 7, 7];
        var commit = new CheckpointCommit(1, ticket.CheckpointId, bytes.Length, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)));
        await _job.Store.WriteUploadAsync(_job.Context.JobId, ticket.CheckpointId, new MemoryStream(bytes));
        await _job.Store.SealAsync(_job.Context.JobId, ticket.CheckpointId, commit.SizeBytes, commit.Sha256);

        var record = _job.Checkpoints.Commit(commit);

        Assert.Equal(begunWith, record.Scheduler);
        Assert.Equal(begunWith.Lr, record.LearningRate);
        Assert.Equal(32, record.Cursor);
    }

    [Fact]
    public async Task ASupersededCheckpointIsForgottenWithoutAFailureEvent()
    {
        _job.Formed(JobTestKit.Spec());
        var ticket = _job.Checkpoints.Begin(new CheckpointRequest { Generation = 1, Epoch = 0, Cursor = 16, GlobalStep = 1 });
        await File.WriteAllBytesAsync(_job.Store.StagingPath(_job.Context.JobId, ticket.CheckpointId), [1]);

        _job.Checkpoints.Abort(new CheckpointAbort(1, ticket.CheckpointId, "superseded by ckpt-g0001-e0000-s0000000003", CheckpointAbortKind.Superseded));

        Assert.Empty(_job.State.PendingCheckpoints);
        Assert.Empty(_job.EventTexts(JobEventKind.Failure));
        Assert.False(File.Exists(_job.Store.StagingPath(_job.Context.JobId, ticket.CheckpointId)));
    }

    [Fact]
    public async Task OfSeveralCheckpointsInsideTheEpochAfterALearningRateDropOnlyTheFirstIsPinned()
    {
        _job.Formed(JobTestKit.Spec() with { Checkpoint = new() { Keep = 1, EverySteps = 2 } });
        _job.Epochs.RecordDecision(2, 20, 0.1, 0.01, LrDecisionKind.Plateau, "val top-1 error did not improve");

        var first = await _job.Checkpoint(2, 22, [1]);
        var second = await _job.Checkpoint(2, 24, [2]);
        var third = await _job.Checkpoint(2, 26, [3]);

        Assert.Equal((true, false, false), (first.Pinned, second.Pinned, third.Pinned));
        Assert.Equal([first.CheckpointId, third.CheckpointId], _job.Checkpoints.Committed().Select(c => c.CheckpointId));
    }
}
