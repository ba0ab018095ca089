using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Plateau.Collective.Tests;
using Plateau.Worker.Tests.Support;
using Plateau.Worker.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Plateau.Worker.Tests.Training;

/// <summary>
/// Issue 15, CUDA staging, exercised on the CPU: the staged path (<see cref="GradientStaging.Staged"/>: a flat tensor per
/// bucket on the device, one copy to the host and one back per bucket, one wait per bucket off the packing thread) gives
/// the same bits as the direct path, with and without overlap, for a parameter that gets no gradient and for the votes.
/// </summary>
public sealed class StagedGradientsTests
{
    private const long BucketCap = 512;
    private const long FirstBucketCap = 256;

    [Fact]
    public async Task StagedGradientsReduceAndTrainBitIdenticallyToDirectOnes()
    {
        await CompareAsync(overlap: false);
    }

    [Fact]
    public async Task StagedGradientsOverlappedWithBackwardReduceAndTrainBitIdenticallyToDirectOnes()
    {
        var launched = await CompareAsync(overlap: true);
        Assert.True(launched > 0, "no staged bucket was launched while backward ran");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task EachBucketCrossesToTheHostOnceAndBackOnceWithOneWaitOffThePackingThread(bool overlap)
    {
        await using var solo = SoloGroup.Join();
        using var model = IdleHead.Create(seed: 4);
        var parameters = Parameters(model);
        var transfers = new RecordingTransfers();
        using var buckets = new GradientBuckets(solo, parameters, BucketCap, FirstBucketCap, GradientStaging.Staged, transfers);
        using var probes = overlap ? new BackwardProbes(model, parameters, buckets) : null;
        var count = buckets.Buckets.Count;
        Assert.True(parameters.Count > count, "every bucket holds one gradient: one copy per bucket would be one per tensor");
        for (var s = 0; s < 2; s++)
        {
            transfers.Calls.Clear();
            Step(model, buckets, probes, seed: 60 + s, StepVotes.None);
            var calls = transfers.Calls.ToArray();
            foreach (var b in Enumerable.Range(0, count))
            {
                var mine = calls.Where(c => c.Bucket == b).ToArray();
                Assert.Equal(["to host", "synchronize", "to device"], mine.Select(c => c.Operation));
                Assert.NotEqual(Environment.CurrentManagedThreadId, mine[1].Thread);
            }

            Assert.Equal(3 * count, calls.Length);
            Assert.Equal(overlap, buckets.LastLaunchedDuringBackward > 0);
        }
    }

    [Fact]
    public async Task PackingWritesOnlyTheDeviceFlatsAndTheHostBufferOnlyByTheBucketCopy()
    {
        // The host buffers hold NaN before each step; the recorder checks that each is still all NaN when its bucket's
        // copy to the host starts, i.e. packing wrote nothing there (as the direct path's per-tensor copies would).
        await using var solo = SoloGroup.Join();
        using var model = TinyNets.BatchNormFree(seed: 8);
        var parameters = Parameters(model);
        var transfers = new RecordingTransfers { ExpectUntouchedHost = true };
        using var buckets = new GradientBuckets(solo, parameters, BucketCap, FirstBucketCap, GradientStaging.Staged, transfers);
        // The last bucket holds the votes alone: nothing of it lives on the device, so it is never copied.
        Assert.Equal([0], buckets.Buckets[^1].Entries.Select(e => e.ParameterIndex));
        for (var s = 0; s < 2; s++)
        {
            foreach (var b in Enumerable.Range(0, buckets.Buckets.Count))
            {
                buckets.HostBuffer(b).Span.Fill(float.NaN);
            }

            transfers.Calls.Clear();
            Step(model, buckets, probes: null, seed: 70 + s, new StepVotes(Pause: true, Stop: false));
            Assert.Equal(buckets.Buckets.Count - 1, transfers.Calls.Count(c => c.Operation == "to host"));
            Assert.True(buckets.LastFinite);
            foreach (var (_, parameter) in parameters)
            {
                using var grad = parameter.grad;
                using var finite = isfinite(grad!).all();
                Assert.True(finite.item<bool>());
            }
        }
    }

    [Fact]
    public async Task CpuParametersChooseTheDirectPathUnlessTheStagedOneIsAskedFor()
    {
        await using var solo = SoloGroup.Join();
        using var model = TinyNets.BatchNormFree(seed: 2);
        using (var chosen = new GradientBuckets(solo, Parameters(model)))
        {
            Assert.Equal(GradientStaging.Direct, chosen.Staging);
        }

        using var staged = new GradientBuckets(solo, Parameters(model), staging: GradientStaging.Staged);
        Assert.Equal(GradientStaging.Staged, staged.Staging);
    }

    [Fact]
    public void ATensorsMemoryIsTheTensorsOwnStorage()
    {
        using var tensor = zeros(6);
        using var memory = new TensorMemory(tensor);
        memory.Memory.Span[2] = 7f;
        using var written = tensor[2];
        Assert.Equal(7f, written.item<float>());
        using var handle = memory.Memory[1..].Pin();
        unsafe
        {
            fixed (byte* data = tensor.bytes)
            {
                Assert.Equal((nint)((float*)data + 1), (nint)handle.Pointer);
            }
        }

        using var doubles = zeros(2, ScalarType.Float64);
        Assert.Throws<ArgumentException>(() => new TensorMemory(doubles));
    }

    /// <summary>Two ranks each train a direct copy (no overlap) and a staged copy of <see cref="IdleHead"/> on the same
    /// batches, rank 1 voting to pause at step 1 and rank 0 to stop at step 2; after every step the reduced gradients, and
    /// at the end weights and momentum, are equal bit for bit and the votes agree. Returns the staged copy's buckets
    /// launched during backward in its last step on rank 0.</summary>
    private static async Task<int> CompareAsync(bool overlap)
    {
        await using var ring = await RingHarness.StartAsync(2);
        var results = await RankThreads.RunAsync(2, rank =>
        {
            using var directModel = IdleHead.Create(seed: 11);
            using var stagedModel = IdleHead.Create(seed: 11);
            using (no_grad())
            {
                var source = directModel.state_dict();
                foreach (var (name, tensor) in stagedModel.state_dict())
                {
                    tensor.copy_(source[name]);
                }
            }

            using var direct = new DataParallelStep(directModel, ring.Groups[rank], 0.9, 1e-4, nesterov: false, BucketCap, overlapReduction: false, FirstBucketCap, GradientStaging.Direct);
            using var staged = new DataParallelStep(stagedModel, ring.Groups[rank], 0.9, 1e-4, nesterov: false, BucketCap, overlap, FirstBucketCap, GradientStaging.Staged);
            Assert.Equal(GradientStaging.Staged, staged.Buckets.Staging);
            StateSync.BroadcastFrom(direct, root: 0, includeMomentum: true, CancellationToken.None);
            StateSync.BroadcastFrom(staged, root: 0, includeMomentum: true, CancellationToken.None);
            var launched = 0;
            for (var s = 0; s < 3; s++)
            {
                var (x, y) = TinyNets.Batch(80 + s, 8);
                using var local = x.narrow(0, rank * 4, 4);
                using var labels = y.narrow(0, rank * 4, 4);
                var votes = new StepVotes(Pause: s == 1 && rank == 1, Stop: s == 2 && rank == 0);
                var reference = direct.Step(local, labels, 0.1, votes, CancellationToken.None);
                var outcome = staged.Step(local, labels, 0.1, votes, CancellationToken.None);
                Assert.Equal(new StepVotes(Pause: s == 1, Stop: s == 2), reference.Votes);
                Assert.Equal(reference.Votes, outcome.Votes);
                Assert.False(outcome.Skipped);
                AssertGradientsBitIdentical(directModel, stagedModel);
                launched = outcome.BucketsLaunchedDuringBackward;
            }

            AssertBitIdentical(directModel.state_dict(), stagedModel.state_dict());
            AssertBitIdentical(direct.Optimizer.MomentumBuffers().ToDictionary(), staged.Optimizer.MomentumBuffers().ToDictionary());
            return launched;
        });

        return results[0];
    }

    private static void Step(nn.Module<Tensor, Tensor> model, GradientBuckets buckets, BackwardProbes? probes, long seed, StepVotes votes)
    {
        model.zero_grad(set_to_none: true);
        buckets.Begin(votes, duringBackward: probes is not null);
        using (NewDisposeScope())
        using (probes?.Arm())
        {
            var (x, y) = TinyNets.Batch(seed, 4);
            nn.functional.cross_entropy(model.call(x), y).backward();
        }

        Assert.Equal(votes, buckets.AllReduce(votes, CancellationToken.None));
    }

    private static List<(string Name, Tensor Parameter)> Parameters(nn.Module model) =>
        [.. model.named_parameters().Select(p => (p.name, (Tensor)p.parameter))];

    private static void AssertGradientsBitIdentical(nn.Module expected, nn.Module actual)
    {
        var theirs = actual.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, parameter) in expected.named_parameters())
        {
            using var grad = parameter.grad;
            using var other = theirs[name].grad;
            if (grad is null)
            {
                // The idle layer's gradient stays unset on both paths (it was packed as zeros).
                Assert.True(other is null, $"{name} has a gradient on the staged path only");
                continue;
            }

            Assert.NotNull(other);
            Assert.True(Bytes(grad).SequenceEqual(Bytes(other)), $"{name}'s reduced gradient differs");
        }
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
        return MemoryMarshal.AsBytes(flat.data<float>().ToArray().AsSpan()).ToArray();
    }

    /// <summary>The real copies, recorded with their thread; optionally checks that a bucket's host buffer still holds the
    /// test's NaNs when its copy to the host starts.</summary>
    private sealed class RecordingTransfers : IBucketTransfers
    {
        private readonly DeviceTransfers _device = new(CPU);

        public ConcurrentQueue<(string Operation, int Bucket, int Thread)> Calls { get; } = new();

        public bool ExpectUntouchedHost { get; init; }

        public void ToHost(int bucket, Tensor host, Tensor device)
        {
            if (ExpectUntouchedHost)
            {
                using var untouched = isnan(host).all();
                Assert.True(untouched.item<bool>(), $"bucket {bucket}'s host buffer was written before its copy");
            }

            _device.ToHost(bucket, host, device);
            Record("to host", bucket);
        }

        public void Synchronize(int bucket)
        {
            _device.Synchronize(bucket);
            Record("synchronize", bucket);
        }

        public void ToDevice(int bucket, Tensor device, Tensor host)
        {
            _device.ToDevice(bucket, device, host);
            Record("to device", bucket);
        }

        private void Record(string operation, int bucket) => Calls.Enqueue((operation, bucket, Environment.CurrentManagedThreadId));
    }

    /// <summary><see cref="TinyNets.BatchNormFree"/> after a linear layer the forward never uses, registered first so its
    /// parameters share the last bucket with the votes.</summary>
    private sealed class IdleHead : nn.Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.Linear idle;
        private readonly nn.Module<Tensor, Tensor> body;

        private IdleHead(nn.Module<Tensor, Tensor> body) : base(nameof(IdleHead))
        {
            idle = nn.Linear(4, 3);
            this.body = body;
            RegisterComponents();
        }

        public static IdleHead Create(long seed)
        {
            lock (WorkerModels.InitialisationLock)
            {
                manual_seed(seed);
                return new IdleHead(TinyNets.BatchNormFreeLayers());
            }
        }

        public override Tensor forward(Tensor input) => body.call(input);
    }
}
