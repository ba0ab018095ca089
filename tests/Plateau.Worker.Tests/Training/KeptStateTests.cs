using Plateau.Contracts.Rendezvous;
using Plateau.Contracts.Specs;
using Plateau.Worker.Tests.Support;
using Plateau.Worker.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Plateau.Worker.Tests.Training;

/// <summary>
/// What a rank keeps in memory when its generation ends is the job's exact state after its last completed step:
/// the forward pass of a step that then failed has moved the BN running statistics, and they are put back.
/// </summary>
public sealed class KeptStateTests
{
    private static readonly ModelSpec Model = new() { Name = "resnet20_cifar" };

    [Fact]
    public async Task TheStateKeptAfterAFailedStepEqualsTheStateAfterTheLastCompletedStepBitForBit()
    {
        await using var group = SoloGroup.Join();
        using var model = WorkerModels.Create(Model, 10, seed: 3);
        using var step = new DataParallelStep(model, group, momentum: 0.9, weightDecay: 1e-4, nesterov: false);
        using var lastStep = new LastCompletedStep(model);
        var (images, labels) = Batch(seed: 1);
        step.Step(images, labels, 0.1, StepVotes.None, CancellationToken.None);
        var position = new CheckpointPosition("job", 1, 0, 16, 1);
        lastStep.Record(position);
        using var completed = CheckpointSnapshot.Take(step, position, Model.Name);

        // The next step's forward runs, then its all-reduce fails: weights and momentum are untouched, BN statistics are not.
        var (next, _) = Batch(seed: 2);
        using (no_grad())
        {
            model.train();
            model.call(next).Dispose();
        }

        using (var moved = CheckpointSnapshot.Take(step, position, Model.Name))
        {
            Assert.NotEmpty(Differing(completed, moved)); // the test would notice a kept copy that is not put back
        }

        lastStep.PutBackBuffers();
        using var kept = CheckpointSnapshot.Take(step, position, Model.Name);
        Assert.Empty(Differing(completed, kept));
    }

    [Fact]
    public async Task AKeptStateRestoresAnotherRanksFreshModelToTheSameBitsAndIsHandedOverOnlyForTheStateAsked()
    {
        await using var group = SoloGroup.Join();
        using var model = WorkerModels.Create(Model, 10, seed: 3);
        using var step = new DataParallelStep(model, group, momentum: 0.9, weightDecay: 1e-4, nesterov: false);
        var (images, labels) = Batch(seed: 1);
        step.Step(images, labels, 0.1, StepVotes.None, CancellationToken.None);
        var position = new CheckpointPosition("job", 1, 0, 16, 1);
        var state = new RetainedState { JobId = "job", DeviceId = "cpu:0", Generation = 1, Rank = 0, Epoch = 0, Cursor = 16, GlobalStep = 1 };
        var slot = new RetainedSlot();
        slot.Keep(new RetainedTraining(CheckpointSnapshot.Take(step, position, Model.Name), state));

        Assert.Equal(state, slot.State);
        Assert.Null(slot.Take(state with { GlobalStep = 2 }));
        using var taken = slot.Take(state);
        Assert.NotNull(taken);
        Assert.Null(slot.State);

        using var otherModel = WorkerModels.Create(Model, 10, seed: 99);
        await using var otherGroup = SoloGroup.Join();
        using var other = new DataParallelStep(otherModel, otherGroup, momentum: 0.9, weightDecay: 1e-4, nesterov: false);
        taken.Restore(other);
        using var expected = CheckpointSnapshot.Take(step, position, Model.Name);
        using var restored = CheckpointSnapshot.Take(other, position, Model.Name);
        Assert.Empty(Differing(expected, restored));
    }

    private static (Tensor Images, Tensor Labels) Batch(int seed)
    {
        using var generator = new Generator((ulong)seed);
        return (randn([16, 3, 32, 32], generator: generator), randint(0, 10, [16], generator: generator));
    }

    private static List<string> Differing(CheckpointSnapshot a, CheckpointSnapshot b) =>
        [.. a.Tensors.Zip(b.Tensors).Where(p => p.First.Key != p.Second.Key || !p.First.Value.equal(p.Second.Value).all().item<bool>()).Select(p => p.First.Key)];
}
