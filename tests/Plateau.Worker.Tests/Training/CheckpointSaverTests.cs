using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Rendezvous;
using Plateau.Contracts.Specs;
using Plateau.Contracts.Training;
using Plateau.Models.Serialization;
using Plateau.Worker.Checkpointing;
using Plateau.Worker.Tests.Support;
using Plateau.Worker.Training;
using Torch = TorchSharp.torch;

namespace Plateau.Worker.Tests.Training;

/// <summary>The background saver against an in-memory job, with an upload that waits until the test lets it go.</summary>
public sealed class CheckpointSaverTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "plateau-saver-tests-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task OfferReturnsWhileTheUploadIsInFlightAndANewerCheckpointReplacesTheOneWaiting()
    {
        await using var rig = new SaverRig(_folder);
        var (job, transport, step, assignment, saver) = (rig.Job, rig.Transport, rig.Step, rig.Assignment, rig.Saver);

        saver.Offer(step, At(assignment, 0, cursor: 16, step: 1), null);
        Assert.True(transport.FirstStarted.Wait(TimeSpan.FromSeconds(30)), "the first upload never started");
        saver.Offer(step, At(assignment, 0, cursor: 32, step: 2), null); // waits behind the first
        saver.Offer(step, At(assignment, 0, cursor: 48, step: 3), null); // replaces the one waiting
        transport.Release.Set();
        saver.Drain(CancellationToken.None);

        Assert.Equal(["ckpt-e0-s1", "ckpt-e0-s3"], job.Checkpoints.Select(c => c.CheckpointId));
        Assert.Equal(48, job.Checkpoints[^1].Cursor);
        var superseded = Assert.Single(job.Aborts);
        Assert.Equal(("ckpt-e0-s2", CheckpointAbortKind.Superseded), (superseded.CheckpointId, superseded.Kind));
        Assert.Equal((2, 1), (saver.Committed, saver.Superseded));
    }

    [Fact]
    public async Task TheSnapshotIsACopySoStepsTakenDuringTheUploadDoNotLeakIntoTheCheckpoint()
    {
        await using var rig = new SaverRig(_folder);
        var (job, transport, step, assignment, saver) = (rig.Job, rig.Transport, rig.Step, rig.Assignment, rig.Saver);
        using var before = CheckpointSnapshot.Take(step, At(assignment, 0, 16, 1), "tiny");

        saver.Offer(step, At(assignment, 0, cursor: 16, step: 1), null);
        Assert.True(transport.FirstStarted.Wait(TimeSpan.FromSeconds(30)), "the first upload never started");
        var (images, labels) = TinyNets.Batch(seed: 4, count: 8);
        using (images)
        using (labels)
        {
            step.Step(images, labels, 0.5, default, CancellationToken.None); // moves every weight
        }

        transport.Release.Set();
        saver.Drain(CancellationToken.None);

        using var fresh = TinyNets.BatchNormFree(seed: 99);
        using var restored = new DataParallelStep(fresh, rig.Solo, 0.9, 1e-4, false);
        var record = Assert.Single(job.Checkpoints);
        CheckpointFile.Restore(job.CheckpointPath(record.CheckpointId), record.SizeBytes, record.Sha256, restored);
        using var after = CheckpointSnapshot.Take(restored, At(assignment, 0, 16, 1), "tiny");
        Assert.Equal(before.Tensors.Select(t => t.Key), after.Tensors.Select(t => t.Key));
        Assert.All(before.Tensors.Zip(after.Tensors), pair => Assert.True(pair.First.Value.allclose(pair.Second.Value, rtol: 0, atol: 0), $"{pair.First.Key} changed"));
    }

    [Fact]
    public async Task ACheckpointFileNamesItsSpecTheScheduleStateAndTheLastEpochsMetrics()
    {
        await using var rig = new SaverRig(_folder);
        rig.Job.TicketContext = new CheckpointContext
        {
            Scheduler = new PlateauSchedulerState { Best = 0.25, BestEpoch = 1, NumBadEpochs = 1, CooldownCounter = 0, Lr = 0.01, Steps = 3 },
            LastEpoch = new EpochMetrics
            {
                Epoch = 2, GlobalStep = 30, TrainLoss = double.NaN, TrainTop1Error = 0.5, TrainSamples = 640, ValTop1Error = 0.3, ValTop5Error = 0.1,
                ValLoss = 1.25, ValSamples = 100, LearningRate = 0.1, At = new DateTimeOffset(2026, 12, 6, 17, 0, 0, TimeSpan.Zero),
                RankImagesPerSecond = new([120.5, 118.25]),
            },
        };
        rig.Transport.Release.Set();

        rig.Saver.Offer(rig.Step, At(rig.Assignment, 3, cursor: 0, step: 30), null);
        rig.Saver.Drain(CancellationToken.None);

        var record = Assert.Single(rig.Job.Checkpoints);
        using var content = SafeTensors.Load(rig.Job.CheckpointPath(record.CheckpointId));
        var description = CheckpointDescription.FromMetadata(content.Metadata, record.CheckpointId);
        Assert.Equal(JobSpecJson.Serialize(rig.Assignment.Spec), JobSpecJson.Serialize(description.Spec));
        Assert.Equal(rig.Job.TicketContext.Scheduler, description.Context?.Scheduler);
        Assert.Equal(rig.Job.TicketContext.LastEpoch, description.Context?.LastEpoch);
    }

    [Fact]
    public void ADescriptionThatCannotBeReadNamesTheMetadataKey()
    {
        var spec = JobSpecJson.Serialize(new JobSpec { Name = "x", Model = new ModelSpec { Name = "tiny" } });

        var broken = Assert.Throws<InvalidDataException>(() => CheckpointDescription.FromMetadata(new Dictionary<string, string> { ["spec"] = spec, ["scheduler"] = "{not json" }, "ckpt-1"));
        var missing = Assert.Throws<InvalidDataException>(() => CheckpointDescription.FromMetadata(new Dictionary<string, string>(), "ckpt-2"));

        Assert.StartsWith("checkpoint ckpt-1: metadata 'scheduler' is not a PlateauSchedulerState", broken.Message, StringComparison.Ordinal);
        Assert.Equal("checkpoint ckpt-2: metadata 'spec' is missing", missing.Message);
    }

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private static CheckpointPosition At(Assignment assignment, int epoch, long cursor, long step) =>
        new(assignment.JobId, assignment.Generation, epoch, cursor, step);

    /// <summary>A one-rank job, a tiny model's step and a saver whose uploads <see cref="HeldUploads"/> holds.</summary>
    private sealed class SaverRig : IAsyncDisposable
    {
        private readonly Torch.nn.Module<Torch.Tensor, Torch.Tensor> _model = TinyNets.BatchNormFree(seed: 3);

        public SaverRig(string folder)
        {
            Job = new FakeJob(folder, worldSize: 1, totalEpochs: 1);
            Solo = SoloGroup.Join();
            Step = new DataParallelStep(_model, Solo, 0.9, 1e-4, false);
            Assignment = Job.AssignmentFor(0, ["http://127.0.0.1:1"]);
            Saver = new CheckpointSaver(Assignment, Job, Transport, TimeSpan.FromSeconds(30), NullLogger.Instance, () => default(TagList), CancellationToken.None);
        }

        public FakeJob Job { get; }

        public HeldUploads Transport { get; } = new();

        public Plateau.Collective.CollectiveGroup Solo { get; }

        public DataParallelStep Step { get; }

        public Assignment Assignment { get; }

        public CheckpointSaver Saver { get; }

        public async ValueTask DisposeAsync()
        {
            Saver.Dispose();
            Step.Dispose();
            _model.Dispose();
            await Solo.DisposeAsync();
        }
    }

    /// <summary>Writes in place like a shared store; the first upload waits for <see cref="Release"/>.</summary>
    private sealed class HeldUploads : ICheckpointTransport
    {
        private int _uploads;

        public ManualResetEventSlim FirstStarted { get; } = new();

        public ManualResetEventSlim Release { get; } = new();

        public string StagingPathFor(Assignment assignment, CheckpointTicket ticket) => ticket.StagingPath!;

        public void Publish(ICheckpointSealer sealer, Assignment assignment, CheckpointTicket ticket, long sizeBytes, string sha256, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _uploads) == 1)
            {
                FirstStarted.Set();
                Release.Wait(cancellationToken);
            }

            sealer.SealCheckpoint(new CheckpointCommit(assignment.Generation, ticket.CheckpointId, sizeBytes, sha256)).GetAwaiter().GetResult();
        }

        public RestoreFile Fetch(Assignment assignment, CheckpointRecord record, CancellationToken cancellationToken) =>
            throw new NotSupportedException();
    }
}
