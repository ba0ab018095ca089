using Plateau.Contracts.Specs;
using Plateau.Contracts.Training;
using Plateau.Contracts.Workers;
using Plateau.Models.Zoo;
using Plateau.Worker.Tests.Support;
using Plateau.Worker.Training;

namespace Plateau.Worker.Tests.Training;

/// <summary>The trainer loop against an in-memory job: 96 synthetic training images, 40 validation images, ResNet-20.</summary>
public sealed class RankTrainerTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "plateau-worker-tests-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task OneRankTrainsEveryPlannedEpochReportsExactCountsAndCheckpoints()
    {
        var job = new FakeJob(_folder, worldSize: 1, totalEpochs: 2);
        await using var harness = await TrainerHarness.StartAsync(job);

        var results = await harness.RunAsync();

        Assert.Equal(TrainerOutcome.Completed, results[0].Outcome);
        for (var epoch = 0; epoch < 2; epoch++)
        {
            var report = Assert.Single(job.ReportsOf(epoch)).Value;
            Assert.Equal(job.StepsPerEpoch * job.GlobalBatch, report.Train.Samples);
            Assert.Equal(40, report.Eval!.Total);
            Assert.True(report.Eval.CorrectTop5 >= report.Eval.CorrectTop1);
            Assert.Equal((epoch + 1) * job.StepsPerEpoch, report.GlobalStep);
        }

        Assert.Equal(["ckpt-e1", "ckpt-e2"], job.Checkpoints.Select(c => c.CheckpointId));
        Assert.Empty(job.Failures);
        Assert.Contains(job.Progress, p => p.GlobalStep > 0 && p.ImagesPerSecond > 0 && p.LearningRate > 0);
    }

    [Theory]
    [InlineData(EvaluationMode.TenCrop)]
    [InlineData(EvaluationMode.MultiScale)]
    public async Task TwoRanksTrainThePartialLastBatchWithoutDropLastAndScoreEveryValidationImageOnceInAMultiViewMode(EvaluationMode mode)
    {
        // 100 samples, global batch 16: six full steps and a last one of 4 (2 per rank).
        var job = new FakeJob(_folder, worldSize: 2, totalEpochs: 1, trainSamples: 100, validationSamples: 41, evaluationMode: mode, dropLast: false);
        await using var harness = await TrainerHarness.StartAsync(job);

        var results = await harness.RunAsync();

        Assert.All(results, r => Assert.Equal(TrainerOutcome.Completed, r.Outcome));
        var reports = job.ReportsOf(0).Values.ToList();
        Assert.Equal(7, job.StepsPerEpoch);
        Assert.All(reports, r => Assert.Equal(7, r.GlobalStep));
        Assert.Equal(100, reports.Sum(r => r.Train.Samples));
        Assert.Equal(41, reports.Sum(r => r.Eval!.Total));
        Assert.Equal([20, 21], reports.Select(r => r.Eval!.Total).Order());
    }

    [Fact]
    public async Task DivergedGradientsAreSkippedAndTooManyInARowFailTheJobNotJustTheGroup()
    {
        // A learning rate of 1e35 blows the weights up after one step; from then on every gradient is NaN.
        var job = new FakeJob(_folder, worldSize: 2, totalEpochs: 2, baseLr: 1e35, maxNonFiniteSteps: 3);
        await using var harness = await TrainerHarness.StartAsync(job);

        var results = await harness.RunAsync();

        Assert.All(results, r => Assert.Equal(TrainerOutcome.Failed, r.Outcome));
        Assert.All(results, r => Assert.Contains("3 steps in a row", r.Message, StringComparison.Ordinal));
        Assert.Equal(2, job.Failures.Count);
        Assert.All(job.Failures, f => Assert.Equal(FailureScope.Job, f.Scope));
        Assert.Empty(job.Checkpoints); // nothing diverged was saved
    }

    [Fact]
    public async Task ACheckpointThatCannotBeWrittenIsAbortedLoudlyAndTrainingGoesOn()
    {
        // /dev/full: every write fails with ENOSPC, as on a full disk.
        var job = new FakeJob(_folder, worldSize: 1, totalEpochs: 2) { StagingPathOverride = "/dev/full" };
        await using var harness = await TrainerHarness.StartAsync(job);

        var results = await harness.RunAsync();

        Assert.Equal(TrainerOutcome.Completed, results[0].Outcome);
        Assert.Equal(2, job.ReportsOf(1).Count + job.ReportsOf(0).Count);
        Assert.Empty(job.Checkpoints);
        Assert.Equal(["ckpt-e1", "ckpt-e2"], job.Aborts.Select(a => a.CheckpointId));
        Assert.All(job.Aborts, a => Assert.Contains("No space left on device", a.Reason, StringComparison.Ordinal));
        Assert.Empty(job.Failures);
    }

    [Fact]
    public async Task TwoRanksSplitValidationExactlyAndOnlyRankZeroCheckpoints()
    {
        var job = new FakeJob(_folder, worldSize: 2, totalEpochs: 1, validationSamples: 41);
        await using var harness = await TrainerHarness.StartAsync(job);

        var results = await harness.RunAsync();

        Assert.All(results, r => Assert.Equal(TrainerOutcome.Completed, r.Outcome));
        var reports = job.ReportsOf(0);
        Assert.Equal(2, reports.Count);
        Assert.Equal([21L, 20L], reports.OrderBy(r => r.Key).Select(r => r.Value.Eval!.Total));
        Assert.All(reports.Values, r => Assert.Equal(job.StepsPerEpoch * job.GlobalBatch / 2, r.Train.Samples));
        Assert.Single(job.Checkpoints);

        // The checkpoint verifies and restores into a fresh model.
        var record = job.Checkpoints[0];
        using var model = ModelRegistry.Create("resnet20_cifar");
        await using var solo = SoloGroup.Join();
        using var step = new DataParallelStep(model, solo, 0.9, 1e-4, false);
        var position = CheckpointFile.Restore(job.CheckpointPath(record.CheckpointId), record.SizeBytes, record.Sha256, step);
        Assert.Equal(1, position.Epoch);
        Assert.Equal(job.StepsPerEpoch, position.GlobalStep);
        Assert.Equal(job.StepsPerEpoch, step.Optimizer.Steps);
        Assert.Throws<CheckpointMismatchException>(() => CheckpointFile.Restore(job.CheckpointPath(record.CheckpointId), record.SizeBytes, new string('0', 64), step));
    }

    [Fact]
    public async Task GradientCompressionFromTheSpecChangesTheTrainingLittleAndFp32RunsRepeatExactly()
    {
        async Task<double[]> TrainLossesAsync(string name, GradientCompression compression)
        {
            var job = new FakeJob(Path.Combine(_folder, name), worldSize: 2, totalEpochs: 2, compression: compression);
            await using var harness = await TrainerHarness.StartAsync(job);
            var results = await harness.RunAsync();
            Assert.All(results, r => Assert.Equal(TrainerOutcome.Completed, r.Outcome));
            return [.. job.ReportsOf(1).OrderBy(r => r.Key).Select(r => r.Value.Train.LossSum)];
        }

        var exact = await TrainLossesAsync("fp32-a", GradientCompression.None);
        var again = await TrainLossesAsync("fp32-b", GradientCompression.None);
        var bf16 = await TrainLossesAsync("bf16", GradientCompression.BFloat16);

        Assert.Equal(exact, again);
        Assert.NotEqual(exact, bf16); // the gradients went over the wire rounded to bfloat16
        Assert.Equal(exact.Sum(), bf16.Sum(), tolerance: 0.05 * exact.Sum());
    }

    [Fact]
    public async Task ARankResumesFromACommittedCheckpointAtTheEpochItNames()
    {
        var first = new FakeJob(_folder, worldSize: 1, totalEpochs: 1);
        await using (var harness = await TrainerHarness.StartAsync(first))
        {
            Assert.Equal(TrainerOutcome.Completed, (await harness.RunAsync())[0].Outcome);
        }

        var checkpoint = Assert.Single(first.Checkpoints);
        var resumed = new FakeJob(_folder, worldSize: 1, totalEpochs: 2);
        await using (var harness = await TrainerHarness.StartAsync(resumed, resume: checkpoint))
        {
            Assert.Equal(TrainerOutcome.Completed, (await harness.RunAsync())[0].Outcome);
        }

        Assert.Empty(resumed.ReportsOf(0));
        var report = Assert.Single(resumed.ReportsOf(1)).Value;
        Assert.Equal(2 * resumed.StepsPerEpoch, report.GlobalStep);
        Assert.Equal(resumed.StepsPerEpoch * resumed.GlobalBatch, report.Train.Samples);
        Assert.All(resumed.Progress, p => Assert.True(p.GlobalStep >= resumed.StepsPerEpoch, $"progress at step {p.GlobalStep} before the checkpoint's step"));
    }

    [Fact]
    public async Task ARankThatFindsItsRestoreCheckpointCorruptTellsTheJobAndTrainsNothing()
    {
        var first = new FakeJob(_folder, worldSize: 1, totalEpochs: 1);
        await using (var harness = await TrainerHarness.StartAsync(first))
        {
            Assert.Equal(TrainerOutcome.Completed, (await harness.RunAsync())[0].Outcome);
        }

        var checkpoint = Assert.Single(first.Checkpoints);
        var bytes = await File.ReadAllBytesAsync(first.CheckpointPath(checkpoint.CheckpointId));
        bytes[^1] ^= 0xFF; // same size, one flipped byte: only a hash can tell
        await File.WriteAllBytesAsync(first.CheckpointPath(checkpoint.CheckpointId), bytes);
        var resumed = new FakeJob(_folder, worldSize: 1, totalEpochs: 2);
        await using var again = await TrainerHarness.StartAsync(resumed, resume: checkpoint);

        var result = (await again.RunAsync())[0];

        Assert.Equal(TrainerOutcome.Stopped, result.Outcome);
        var rejection = Assert.Single(resumed.Rejections);
        Assert.Equal((1L, checkpoint.CheckpointId, 0), (rejection.Generation, rejection.CheckpointId, rejection.Rank));
        Assert.StartsWith("has SHA-256 ", rejection.Problem, StringComparison.Ordinal);
        Assert.EndsWith($", the registry says {checkpoint.Sha256}", rejection.Problem, StringComparison.Ordinal);
        // Progress reports may tick while the file is hashed; none may show a step past the checkpoint's.
        Assert.All(resumed.Progress, p => Assert.True(p.GlobalStep <= checkpoint.GlobalStep, $"progress at step {p.GlobalStep}, past the checkpoint's step {checkpoint.GlobalStep}"));
        Assert.Empty(resumed.ReportsOf(0));
        Assert.Empty(resumed.ReportsOf(1));
        Assert.Empty(resumed.Failures);
    }

    [Fact]
    public async Task AResumeFromAMidEpochCheckpointEndsWithWeightsBitIdenticalToAnUninterruptedRun()
    {
        // 6 steps an epoch, a checkpoint every 4 steps: the first lands inside epoch 0 at sample 64 of its order.
        var whole = new FakeJob(Path.Combine(_folder, "whole"), worldSize: 2, totalEpochs: 2, checkpointEverySteps: 4);
        await using (var harness = await TrainerHarness.StartAsync(whole))
        {
            Assert.All(await harness.RunAsync(), r => Assert.Equal(TrainerOutcome.Completed, r.Outcome));
        }

        var midEpoch = whole.Checkpoints.First();
        Assert.Equal(("ckpt-e0-s4", 0, 64L, 4L), (midEpoch.CheckpointId, midEpoch.Epoch, midEpoch.Cursor, midEpoch.GlobalStep));
        var resumed = new FakeJob(Path.Combine(_folder, "resumed"), worldSize: 2, totalEpochs: 2, checkpointEverySteps: 4);
        File.Copy(whole.CheckpointPath(midEpoch.CheckpointId), resumed.CheckpointPath(midEpoch.CheckpointId));
        await using (var harness = await TrainerHarness.StartAsync(resumed, resume: midEpoch))
        {
            Assert.All(await harness.RunAsync(), r => Assert.Equal(TrainerOutcome.Completed, r.Outcome));
        }

        // The resumed generation trained only the rest of epoch 0: 2 global batches of 16, 8 samples per rank each.
        Assert.All(resumed.ReportsOf(0).Values, r => Assert.Equal(16, r.Train.Samples));
        using var expected = CheckpointContents.Load(whole.CheckpointPath("ckpt-e2"));
        using var actual = CheckpointContents.Load(resumed.CheckpointPath("ckpt-e2"));
        actual.AssertSameTrainingStateAs(expected); // weights, momentum and position, bit for bit
    }

    [Fact]
    public async Task APauseOnOneRankHoldsBothAtTheSameStepAndAStopOnTheOtherEndsBoth()
    {
        var job = new FakeJob(_folder, worldSize: 2, totalEpochs: 50);
        await using var harness = await TrainerHarness.StartAsync(job);
        var run = harness.RunAsync();

        await WaitUntil(() => harness.Trainers[0].Meter.GlobalStep >= 2, run);
        // As the JobGrain does: the job is Paused (progress answers say so) and the pause reaches one rank first.
        job.Directive = Plateau.Contracts.Training.WorkerDirective.Pause;
        harness.Controls[0].RequestPause();
        await WaitUntil(() => harness.States.All(s => s.LastOrDefault().State == WorkerTrainerState.Paused), run);
        var pausedAt = harness.Trainers.Select(t => t.Meter.GlobalStep).ToArray();
        await Task.Delay(500);
        Assert.Equal(pausedAt, harness.Trainers.Select(t => t.Meter.GlobalStep));
        Assert.Equal(pausedAt[0], pausedAt[1]);

        job.Directive = Plateau.Contracts.Training.WorkerDirective.Continue;
        harness.Controls[0].Resume();
        harness.Controls[1].Resume();
        await WaitUntil(() => harness.Trainers[0].Meter.GlobalStep > pausedAt[0] + 1, run);
        harness.Controls[1].RequestStop("test stop", TimeSpan.FromSeconds(30));

        var results = await run.WaitAsync(TimeSpan.FromMinutes(2));
        Assert.All(results, r => Assert.Equal(TrainerOutcome.Stopped, r.Outcome));
        Assert.Equal(results[0].GlobalStep, results[1].GlobalStep);
        Assert.Empty(job.Failures);
    }

    [Fact]
    public async Task APeerThatStopsRespondingIsReportedWithItsRank()
    {
        // Rank 1 hangs after its first epoch report (as a wedged process would); rank 0 goes on into the
        // next epoch and its all-reduce deadline names rank 1.
        var job = new FakeJob(_folder, worldSize: 2, totalEpochs: 50) { StallRank = 1 };
        await using var harness = await TrainerHarness.StartAsync(job, TrainerHarness.FastOptions with
        {
            CollectiveTimeout = TimeSpan.FromSeconds(3),
            CallTimeout = TimeSpan.FromSeconds(8),
        });

        var results = await harness.RunAsync().WaitAsync(TimeSpan.FromMinutes(2));

        Assert.Equal(TrainerOutcome.Failed, results[0].Outcome);
        var failure = Assert.Single(job.Failures, f => f.ReporterRank == 0);
        Assert.True(failure.FailedRank == 1, $"failure names rank {failure.FailedRank}: {failure.Reason}");
        Assert.Contains("rank 1", failure.Reason, StringComparison.Ordinal);
        Assert.Equal(1, failure.Generation);
        Assert.Equal(job.PeerAddress(1), failure.FailedAddress);
    }

    [Fact]
    public async Task TheJobsStopDirectiveEndsTheRun()
    {
        var job = new FakeJob(_folder, worldSize: 1, totalEpochs: 50);
        await using var harness = await TrainerHarness.StartAsync(job);
        var run = harness.RunAsync();
        await WaitUntil(() => harness.Trainers[0].Meter.GlobalStep >= 1, run);

        job.Directive = Plateau.Contracts.Training.WorkerDirective.Stop;

        var results = await run.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(TrainerOutcome.Stopped, results[0].Outcome);
        Assert.Empty(job.Failures);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static async Task WaitUntil(Func<bool> condition, Task run)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (!condition())
        {
            if (run.IsCompleted)
            {
                await run; // surface the failure
                Assert.Fail("the trainers ended before the condition held");
            }

            Assert.True(DateTime.UtcNow < deadline, "condition not reached within 2 minutes");
            await Task.Delay(20);
        }
    }
}
