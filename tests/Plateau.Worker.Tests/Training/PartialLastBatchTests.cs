using Plateau.Collective.Tests;
using Plateau.Contracts.Training;
using Plateau.Data.Sampling;
using Plateau.Worker.Tests.Support;
using Plateau.Worker.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Plateau.Worker.Tests.Training;

/// <summary>
/// spec.batch.dropLast false: the epoch's partial last global batch is split across the ranks as the sampler
/// shares it (⌈b/w⌉ for the first b mod w ranks, ⌊b/w⌋ for the rest, possibly none) and each rank's loss is
/// weighted by its share, so the step equals one process's step on the mean over the partial batch.
/// </summary>
public sealed class PartialLastBatchTests
{
    [Theory]
    [InlineData(5)] // shares 2, 2, 1
    [InlineData(2)] // shares 1, 1, 0: a rank with nothing still takes part
    public async Task ThreeRanksOnAPartialBatchTakeTheSingleProcessStepOnItsMean(int partial)
    {
        const int world = 3;
        using var reference = TinyNets.BatchNormFree(seed: 11);
        var (x, y) = TinyNets.Batch(300, partial);
        using (var sgd = optim.SGD(reference.parameters(), 0.1, momentum: 0.9, weight_decay: 1e-4))
        {
            sgd.zero_grad();
            using var loss = nn.functional.cross_entropy(reference.call(x), y);
            loss.backward();
            sgd.step();
        }

        await using var ring = await RingHarness.StartAsync(world);
        var models = await RankThreads.RunAsync(world, rank =>
        {
            var model = TinyNets.BatchNormFree(seed: 11);
            using var step = new DataParallelStep(model, ring.Groups[rank], momentum: 0.9, weightDecay: 1e-4, nesterov: false);
            var (lo, hi) = DistributedSampler.ShareOf(partial, rank, world);
            using var local = x.narrow(0, lo, hi - lo);
            using var labels = y.narrow(0, lo, hi - lo);
            var outcome = step.Step(local, labels, 0.1, StepVotes.None, CancellationToken.None, globalCount: partial);
            Assert.Equal(hi - lo, outcome.Samples);
            return model;
        });

        Assert.Equal(0f, TinyNets.MaxDifference(models[0], models[2]));
        Assert.InRange(TinyNets.MaxDifference(models[0], reference), 0f, 2e-6f);
    }

    [Theory]
    [InlineData(10, 4, 2, true, 2)]
    [InlineData(10, 4, 2, false, 3)]
    [InlineData(50000, 128, 4, false, 391)]
    [InlineData(45000, 256, 8, true, 175)]
    public void TheCoordinatorsStepCountIsTheNumberOfGlobalBatchesTheWorkersSamplerYields(int samples, int batch, int world, bool dropLast, long steps)
    {
        var sampler = new DistributedSampler(samples, batch, seed: 1);
        var yielded = sampler.RankSlice(0, 0, world - 1, world).Count(b => !dropLast || b.GlobalBatchSize == batch);

        Assert.Equal(steps, EpochSteps.From(samples, 0, batch, dropLast));
        Assert.Equal(steps, yielded);
        Assert.Equal(samples, EpochSteps.CursorAfter(samples, 0, EpochSteps.From(samples, 0, batch, dropLast: false), batch));
    }
}
