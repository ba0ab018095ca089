using Plateau.Collective.Tests;
using Plateau.Worker.Tests.Support;
using Plateau.Worker.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Plateau.Worker.Tests.Training;

/// <summary>
/// A NaN on one rank reaches every rank through the averaged gradients, so every rank skips that step
/// alike: no update is applied, the weights stay bit-identical across ranks, and training goes on.
/// </summary>
public sealed class NonFiniteStepTests
{
    [Fact]
    public async Task ANaNInOneRanksBatchMakesEveryRankSkipThatStepAndOnlyThatStep()
    {
        const int share = 8;
        await using var ring = await RingHarness.StartAsync(2);
        var results = await RankThreads.RunAsync(2, rank =>
        {
            var model = TinyNets.BatchNormFree(seed: 7);
            using var step = new DataParallelStep(model, ring.Groups[rank], momentum: 0.9, weightDecay: 1e-4, nesterov: false);
            StateSync.BroadcastFrom(step, root: 0, includeMomentum: true, CancellationToken.None);
            var skipped = new List<bool>();
            var weightsBefore = new List<float[]>();
            for (var s = 0; s < 3; s++)
            {
                var (x, y) = TinyNets.Batch(200 + s, 2 * share);
                using var local = x.narrow(0, rank * share, share).clone();
                using var labels = y.narrow(0, rank * share, share);
                if (s == 1 && rank == 1)
                {
                    local[0, 0] = float.NaN; // one pixel of one image on one rank
                }

                weightsBefore.Add(Flat(model));
                skipped.Add(step.Step(local, labels, 0.1, StepVotes.None, CancellationToken.None).Skipped);
            }

            weightsBefore.Add(Flat(model));
            return (Model: model, Skipped: skipped, Weights: weightsBefore);
        });

        foreach (var (_, skipped, weights) in results)
        {
            Assert.Equal([false, true, false], skipped);
            Assert.NotEqual(weights[0], weights[1]); // step 0 trained
            Assert.Equal(weights[1], weights[2]);    // step 1 was skipped: not one bit changed
            Assert.NotEqual(weights[2], weights[3]); // step 2 trained again
            Assert.All(weights[3], w => Assert.True(float.IsFinite(w)));
        }

        Assert.Equal(0f, TinyNets.MaxDifference(results[0].Model, results[1].Model));
    }

    private static float[] Flat(nn.Module module)
    {
        using var scope = NewDisposeScope();
        return cat(module.parameters().Select(p => p.detach().flatten()).ToList(), 0).data<float>().ToArray();
    }
}
