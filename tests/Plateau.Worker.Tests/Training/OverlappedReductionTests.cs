using System.Runtime.InteropServices;
using Plateau.Collective.Tests;
using Plateau.Models.Zoo;
using Plateau.Worker.Tests.Support;
using Plateau.Worker.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Plateau.Worker.Tests.Training;

/// <summary>
/// Issue 15: all-reducing gradient buckets while backward still runs (<see cref="BackwardProbes"/>) changes the
/// timing, never the numbers. Two ranks on a loopback ring each train two copies of one model on the same batches,
/// one with the overlapped step and one with the plain step (alternating on the same group); after several steps
/// weights, BN statistics and momentum are equal bit for bit, and the overlapped copy did launch buckets during
/// backward.
/// </summary>
public sealed class OverlappedReductionTests
{
    private static readonly double[] Rates = [0.1, 0.05, 0.01];

    [Fact]
    public async Task ABatchNormFreeNetInManySmallBucketsEndsBitIdentical()
    {
        var launched = await CompareAsync(() => TinyNets.BatchNormFree(seed: 5), side: 16, batch: 4, bucketCapBytes: 512, firstBucketCapBytes: 256);
        Assert.True(launched > 0, "no bucket was launched while backward ran");
    }

    [Fact]
    public async Task SeResNet20WithBatchNormAndSqueezeExcitationEndsBitIdentical()
    {
        var launched = await CompareAsync(() => Create("se_resnet20_cifar"), side: 32, batch: 4, bucketCapBytes: 128 * 1024, firstBucketCapBytes: 16 * 1024);
        Assert.True(launched > 0, "no bucket was launched while backward ran");
    }

    [Fact]
    public async Task ResNet50WithDdpsDefaultBucketsEndsBitIdenticalAndLaunchesAllButTheLastBucketDuringBackward()
    {
        var launched = await CompareAsync(() => Create("resnet50"), side: 32, batch: 2, steps: 2,
            probed: modules => Assert.Equal("fc", modules[0]));
        // The last bucket holds the stem, whose input (the image) needs no gradient: nothing can probe it, so it
        // goes after backward; every other bucket goes while backward runs.
        using var model = Create("resnet50");
        var buckets = Plateau.Collective.Buckets.BucketAssignment.Assign(
            [new("control votes", [2]), .. model.named_parameters().Select(p => new Plateau.Collective.Buckets.ParameterSpec(p.name, p.parameter.shape))]).Count;
        Assert.Equal(buckets - 1, launched);
    }

    [Fact]
    public async Task AWeightUsedTwiceIsPackedOnlyOnceBothUsesHaveDeliveredTheirGradient()
    {
        // Buckets: [head], [shared], [stem], [votes]. The shared layer's probe fires twice: after its second use's
        // backward, when its first use has not contributed yet and the gradient is still unset (the bucket waits),
        // then after the first use's, when autograd has summed both and written it (the bucket goes).
        var launched = await CompareAsync(() => SharedTwice.Create(seed: 3), side: 0, batch: 4, bucketCapBytes: 64, firstBucketCapBytes: 64);
        Assert.Equal(2, launched);
    }

    [Fact]
    public async Task ARankWithNoSampleOnAPartialBatchStaysInStep()
    {
        // A share of 3 and 0: rank 1 backpropagates zeros without touching a module, so only rank 0's probes fire.
        await CompareAsync(() => TinyNets.BatchNormFree(seed: 9), side: 16, batch: 3, bucketCapBytes: 512, firstBucketCapBytes: 256, emptyRank: 1);
    }

    [Fact]
    public async Task TheOverlappedStepRefusesGradientsLeftFromBefore()
    {
        await using var solo = SoloGroup.Join();
        using var model = TinyNets.BatchNormFree(seed: 1);
        using var step = new DataParallelStep(model, solo, 0.9, 0, nesterov: false, overlapReduction: true);
        var (x, y) = TinyNets.Batch(1, 2);
        step.Step(x, y, 0.1, StepVotes.None, CancellationToken.None);
        // The step leaves the averaged gradients in place; an overlapped backward needs them unset first.
        var error = Assert.Throws<InvalidOperationException>(() => step.Buckets.Begin(StepVotes.None, duringBackward: true));
        Assert.Contains("set to none", error.Message, StringComparison.Ordinal);
    }

    private static nn.Module<Tensor, Tensor> Create(string name)
    {
        lock (WorkerModels.InitialisationLock)
        {
            manual_seed(17);
            return ModelRegistry.Create(name);
        }
    }

    /// <summary>Trains plain and overlapped copies on 2 ranks, asserts them bit-identical, returns the buckets the
    /// overlapped copy launched during backward in its last step on rank 0.</summary>
    private static async Task<int> CompareAsync(Func<nn.Module<Tensor, Tensor>> create, int side, int batch, int steps = 3,
        long bucketCapBytes = Plateau.Collective.Buckets.BucketAssignment.DefaultBucketCapBytes,
        long firstBucketCapBytes = Plateau.Collective.Buckets.BucketAssignment.DefaultFirstBucketCapBytes, int? emptyRank = null,
        Action<IReadOnlyList<string>>? probed = null)
    {
        await using var ring = await RingHarness.StartAsync(2);
        var results = await RankThreads.RunAsync(2, rank =>
        {
            using var plainModel = create();
            using var overlappedModel = create();
            // Other test classes draw from torch's global generator while these are built: start the two copies from
            // the same weights explicitly (the broadcasts below then make every rank equal to rank 0).
            using (no_grad())
            {
                var source = plainModel.state_dict();
                foreach (var (name, tensor) in overlappedModel.state_dict())
                {
                    tensor.copy_(source[name]);
                }
            }

            using var plain = new DataParallelStep(plainModel, ring.Groups[rank], 0.9, 1e-4, nesterov: false, bucketCapBytes, overlapReduction: false, firstBucketCapBytes);
            using var overlapped = new DataParallelStep(overlappedModel, ring.Groups[rank], 0.9, 1e-4, nesterov: false, bucketCapBytes, overlapReduction: true, firstBucketCapBytes);
            Assert.NotEmpty(overlapped.ProbedModules);
            probed?.Invoke(overlapped.ProbedModules);
            StateSync.BroadcastFrom(plain, root: 0, includeMomentum: true, CancellationToken.None);
            StateSync.BroadcastFrom(overlapped, root: 0, includeMomentum: true, CancellationToken.None);
            var launched = 0;
            for (var s = 0; s < steps; s++)
            {
                var (x, y) = side == 0 ? SharedTwice.Batch(40 + s, 2 * batch) : TinyNets.Batch(40 + s, 2 * batch, side);
                var share = emptyRank == rank ? 0 : batch;
                var start = emptyRank is null ? rank * batch : 0;
                int? global = emptyRank is null ? null : batch;
                using var local = x.narrow(0, start, share);
                using var labels = y.narrow(0, start, share);
                var reference = plain.Step(local, labels, Rates[s % Rates.Length], StepVotes.None, CancellationToken.None, global);
                var outcome = overlapped.Step(local, labels, Rates[s % Rates.Length], StepVotes.None, CancellationToken.None, global);
                Assert.Equal(0, reference.BucketsLaunchedDuringBackward);
                Assert.Equal(reference.LossSum, outcome.LossSum);
                launched = outcome.BucketsLaunchedDuringBackward;
            }

            AssertBitIdentical(plainModel.state_dict(), overlappedModel.state_dict());
            AssertBitIdentical(plain.Optimizer.MomentumBuffers().ToDictionary(), overlapped.Optimizer.MomentumBuffers().ToDictionary());
            return launched;
        });

        return results[0];
    }

    private static void AssertBitIdentical(IReadOnlyDictionary<string, Tensor> expected, IReadOnlyDictionary<string, Tensor> actual)
    {
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, tensor) in expected)
        {
            Assert.True(Bytes(tensor).SequenceEqual(Bytes(actual[name])), $"{name} differs");
        }
    }

    private static byte[] Bytes(Tensor tensor)
    {
        using var flat = tensor.detach().contiguous().flatten();
        return flat.dtype switch
        {
            ScalarType.Float32 => MemoryMarshal.AsBytes(flat.data<float>().ToArray().AsSpan()).ToArray(),
            ScalarType.Int64 => MemoryMarshal.AsBytes(flat.data<long>().ToArray().AsSpan()).ToArray(),
            var other => throw new NotSupportedException($"{other}"),
        };
    }

    /// <summary>A linear stem, one linear layer applied twice (shared weights), then a classifier.</summary>
    private sealed class SharedTwice : nn.Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.Linear stem;
        private readonly TorchSharp.Modules.Linear shared;
        private readonly TorchSharp.Modules.Linear head;

        private SharedTwice() : base(nameof(SharedTwice))
        {
            stem = nn.Linear(6, 6);
            shared = nn.Linear(6, 6);
            head = nn.Linear(6, 10);
            RegisterComponents();
        }

        public static SharedTwice Create(long seed)
        {
            lock (WorkerModels.InitialisationLock)
            {
                manual_seed(seed);
                return new SharedTwice();
            }
        }

        public static (Tensor Inputs, Tensor Labels) Batch(long seed, int count)
        {
            var generator = new Generator((ulong)seed);
            return (randn([count, 6], generator: generator), randint(0, 10, [count], generator: generator));
        }

        public override Tensor forward(Tensor input)
        {
            using var lifted = stem.call(input);
            using var first = shared.call(lifted).tanh();
            using var second = shared.call(first).tanh();
            return head.call(second);
        }
    }
}
