using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Plateau.Data.Datasets;
using Plateau.Data.Sampling;
using Plateau.Data.Transforms;

namespace Plateau.Data.Loading;

/// <summary>
/// Multi-threaded decode → augment → batch pipeline handing over TorchSharp CPU tensors.
/// <para>
/// Dedicated decode threads take samples in batch order; each writes its sample straight into a pooled batch tensor.
/// Batches are prepared ahead up to <see cref="PrefetchBatches"/> = clamp(PrefetchBytes / batch bytes, 2,
/// MaxPrefetchBatches) and delivered in plan order. A bad sample (unreadable, corrupt, truncated) is logged with its
/// path, counted, and left out of its batch; beyond <see cref="DataLoaderOptions.MaxBadSampleFraction"/> of the run
/// the enumeration throws <see cref="TooManyBadSamplesException"/> naming the files.
/// </para>
/// <para>
/// Resident memory: <see cref="ResidentBoundBytes"/> = PrefetchBatches x batch bytes (the pooled tensors) plus, per
/// decode thread, the largest file read, the largest decoded image (W x H x 3, after DCT scaling), the crop
/// (out x out x 3) and the resampler's rows (rows x out x 3 floats); plus whatever the dataset holds itself (CIFAR
/// keeps its split in memory, folders keep a path list, shards an index).
/// </para>
/// </summary>
public sealed class DataLoader : IAsyncDisposable, IDisposable
{
    private readonly IImageDataset _dataset;
    private readonly ISampleTransform _transform;
    private readonly DataLoaderOptions _options;
    private readonly BlockingCollection<WorkItem> _queue = new(new ConcurrentQueue<WorkItem>());
    private readonly Thread[] _threads;
    private readonly SampleProcessor[] _processors;
    private readonly SampleBuffer[] _buffers;
    private readonly BatchSlot[] _slots;
    private readonly ConcurrentBag<BatchSlot> _freeSlots = [];
    private readonly SemaphoreSlim _slotAvailable;
    private int _running;
    private bool _disposed;

    /// <param name="dataset">Where samples come from.</param>
    /// <param name="transform">Per-sample augmentation/evaluation geometry.</param>
    /// <param name="batchCapacity">The largest batch that will be requested (local batch size per rank).</param>
    /// <param name="seed">Augmentation seed; each sample's randomness is a function of (seed, epoch, index).</param>
    /// <param name="options">Threads, prefetch caps, output type, bad-sample tolerance.</param>
    public DataLoader(IImageDataset dataset, ISampleTransform transform, int batchCapacity, int seed, DataLoaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(transform);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchCapacity, 1, nameof(batchCapacity));
        _options = options ?? new DataLoaderOptions();
        _options.Validate();
        _dataset = dataset;
        _transform = transform;
        BatchCapacity = batchCapacity;
        Seed = seed;

        long[] sampleShape = transform.Views == 1
            ? [3, transform.OutputHeight, transform.OutputWidth]
            : [transform.Views, 3, transform.OutputHeight, transform.OutputWidth];
        var floatOutput = _options.Output == LoaderOutput.Normalised;
        var probe = new BatchSlot(0, batchCapacity, sampleShape, floatOutput);
        BatchBytes = probe.TotalBytes;
        PrefetchBatches = (int)Math.Clamp(_options.PrefetchBytes / BatchBytes, 2, _options.MaxPrefetchBatches);
        _slots = new BatchSlot[PrefetchBatches];
        _slots[0] = probe;
        for (var i = 1; i < _slots.Length; i++)
        {
            _slots[i] = new BatchSlot(i, batchCapacity, sampleShape, floatOutput);
        }
        foreach (var slot in _slots)
        {
            _freeSlots.Add(slot);
        }
        _slotAvailable = new SemaphoreSlim(_slots.Length, _slots.Length);

        _processors = new SampleProcessor[_options.DecodeThreads];
        _buffers = new SampleBuffer[_options.DecodeThreads];
        _threads = new Thread[_options.DecodeThreads];
        for (var t = 0; t < _threads.Length; t++)
        {
            _processors[t] = new SampleProcessor(transform, _options.Normalisation, seed, _options.Decoder, _options.DecodeQuality);
            _buffers[t] = new SampleBuffer();
            var id = t;
            _threads[t] = new Thread(() => DecodeLoop(id)) { IsBackground = true, Name = $"plateau-decode-{t}" };
            _threads[t].Start();
        }
    }

    public int BatchCapacity { get; }

    public int Seed { get; }

    /// <summary>Bytes of one pooled batch (images + labels + lighting offsets).</summary>
    public long BatchBytes { get; }

    /// <summary>Batches prepared ahead (pool size).</summary>
    public int PrefetchBatches { get; }

    /// <summary>Samples skipped as bad since the loader was created.</summary>
    public IReadOnlyCollection<BadSample> BadSamples => _bad;

    private readonly ConcurrentQueue<BadSample> _bad = new();

    /// <summary>
    /// Current resident bound: pooled batch tensors plus every decode thread's scratch (file buffer, decoded image,
    /// crop, resampler rows) as grown so far. Scratch grows to the largest image seen and then stays.
    /// </summary>
    public long ResidentBoundBytes =>
        (PrefetchBatches * BatchBytes) + _processors.Sum(p => p.ScratchBytes) + _buffers.Sum(b => (long)b.Capacity);

    /// <summary>
    /// Rank <paramref name="rank"/>'s batches of <paramref name="epoch"/> from <paramref name="cursor"/> on, in order.
    /// Each batch carries its <see cref="RankBatch"/> (checkpoint <see cref="RankBatch.CursorAfter"/> once every rank
    /// has stepped). Empty rank batches (global batch smaller than the world) are yielded too, with Count 0.
    /// </summary>
    public IAsyncEnumerable<Batch> ReadEpoch(DistributedSampler sampler, int epoch, long cursor, int rank, int worldSize, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sampler);
        var plan = sampler.RankSlice(epoch, cursor, rank, worldSize).ToList();
        var largest = plan.Count == 0 ? 0 : plan.Max(b => b.Count);
        if (largest > BatchCapacity)
        {
            throw new ArgumentException($"rank batches of up to {largest} samples exceed the loader's batchCapacity {BatchCapacity}");
        }
        return Run(epoch, plan.Select(b => (b.Indices, (RankBatch?)b)).ToList(), cancellationToken);
    }

    /// <summary>Batches of explicit dataset indices (validation ranges, tests), in order.</summary>
    public IAsyncEnumerable<Batch> ReadBatches(int epoch, IEnumerable<int[]> batches, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batches);
        var plan = batches.Select(b => (b, (RankBatch?)null)).ToList();
        foreach (var (indices, _) in plan)
        {
            if (indices.Length > BatchCapacity)
            {
                throw new ArgumentException($"a batch of {indices.Length} samples exceeds the loader's batchCapacity {BatchCapacity}");
            }
            foreach (var i in indices)
            {
                if ((uint)i >= (uint)_dataset.Count)
                {
                    throw new ArgumentOutOfRangeException(nameof(batches), i, $"sample index outside the dataset [0, {_dataset.Count})");
                }
            }
        }
        return Run(epoch, plan, cancellationToken);
    }

    private async IAsyncEnumerable<Batch> Run(int epoch, List<(int[] Indices, RankBatch? Plan)> plan, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Interlocked.Exchange(ref _running, 1) == 1)
        {
            throw new InvalidOperationException("this DataLoader is already being enumerated; finish or dispose that enumeration first");
        }
        var planned = plan.Sum(p => p.Indices.Length);
        var run = new RunState(epoch, (int)Math.Floor(_options.MaxBadSampleFraction * planned));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var jobs = new ConcurrentQueue<BatchJob>();
        var jobReady = new SemaphoreSlim(0);
        var producer = Task.Run(async () =>
        {
            try
            {
                foreach (var (indices, rankBatch) in plan)
                {
                    await _slotAvailable.WaitAsync(stop.Token).ConfigureAwait(false);
                    _freeSlots.TryTake(out var slot);
                    var job = new BatchJob(run, slot!, indices, rankBatch);
                    jobs.Enqueue(job);
                    jobReady.Release();
                    if (indices.Length == 0)
                    {
                        job.Complete();
                        continue;
                    }
                    for (var p = 0; p < indices.Length; p++)
                    {
                        _queue.Add(new WorkItem(job, p));
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }, CancellationToken.None);

        Batch? previous = null;
        var delivered = 0;
        try
        {
            while (delivered < plan.Count)
            {
                await jobReady.WaitAsync(cancellationToken).ConfigureAwait(false);
                jobs.TryDequeue(out var job);
                await job!.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
                previous?.Dispose();
                previous = null;
                if (job.Failure is not null)
                {
                    ReleaseSlot(job.Slot);
                    throw new InvalidOperationException($"loading a batch of epoch {epoch} failed: {job.Failure.Message}", job.Failure);
                }
                if (run.BadCount > run.AllowedBad)
                {
                    ReleaseSlot(job.Slot);
                    var bad = run.Bad.ToList();
                    if (_options.Logger is { } log)
                    {
                        DataLog.TooManyBadSamples(log, bad.Count, planned, _options.MaxBadSampleFraction);
                    }
                    throw new TooManyBadSamplesException(bad, planned, _options.MaxBadSampleFraction);
                }
                previous = job.ToBatch(() => ReleaseSlot(job.Slot));
                delivered++;
                yield return previous;
            }
        }
        finally
        {
            previous?.Dispose();
            await stop.CancelAsync().ConfigureAwait(false);
            run.Cancelled = true;
            await producer.ConfigureAwait(false);
            // Let in-flight work finish writing before its slot is reused, then return every slot still held.
            while (jobs.TryDequeue(out var pending))
            {
                await pending.Done.Task.ConfigureAwait(false);
                ReleaseSlot(pending.Slot);
            }
            Volatile.Write(ref _running, 0);
        }
    }

    private void ReleaseSlot(BatchSlot slot)
    {
        _freeSlots.Add(slot);
        _slotAvailable.Release();
    }

    private void DecodeLoop(int threadId)
    {
        var processor = _processors[threadId];
        var buffer = _buffers[threadId];
        foreach (var item in _queue.GetConsumingEnumerable())
        {
            var job = item.Job;
            var run = job.Run;
            var index = job.Indices[item.Position];
            if (!run.Cancelled && job.Failure is null)
            {
                try
                {
                    var sample = _dataset.ReadSample(index, buffer);
                    if (job.Slot.FloatOutput)
                    {
                        processor.ProcessToFloats(sample, run.Epoch, job.Slot.SampleFloats(item.Position));
                    }
                    else
                    {
                        processor.ProcessToBytes(sample, run.Epoch, job.Slot.SampleBytes(item.Position), job.Slot.SampleOffsets(item.Position));
                    }
                    unsafe
                    {
                        job.Slot.LabelPtr[item.Position] = sample.Label;
                    }
                    job.SourceSizes[item.Position] = processor.SourceSize;
                    job.Good[item.Position] = true;
                }
                catch (BadSampleException e)
                {
                    var source = string.IsNullOrEmpty(e.SampleSource) ? _dataset.DescribeSample(index) : e.SampleSource;
                    var reason = string.IsNullOrEmpty(e.Reason) ? e.Message : e.Reason;
                    var bad = new BadSample(run.Epoch, index, source, reason);
                    run.Bad.Enqueue(bad);
                    Interlocked.Increment(ref run.BadCount);
                    _bad.Enqueue(bad);
                    if (_options.Logger is { } log)
                    {
                        DataLog.BadSample(log, index, source, reason);
                    }
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    job.Failure ??= new InvalidOperationException($"sample {index} ({_dataset.DescribeSample(index)}): {e.Message}", e);
                }
            }
            if (Interlocked.Decrement(ref job.Remaining) == 0)
            {
                job.Complete();
            }
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _queue.CompleteAdding();
        foreach (var t in _threads)
        {
            t.Join();
        }
        foreach (var p in _processors)
        {
            p.Dispose();
        }
        foreach (var s in _slots)
        {
            s.Dispose();
        }
        _queue.Dispose();
        _slotAvailable.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private sealed class RunState(int epoch, int allowedBad)
    {
        public int Epoch { get; } = epoch;

        public int BadCount;

        public volatile bool Cancelled;

        public ConcurrentQueue<BadSample> Bad { get; } = new();

        /// <summary>floor(MaxBadSampleFraction x planned samples): more than this many bad samples fails the run.</summary>
        public int AllowedBad { get; } = allowedBad;
    }

    private readonly record struct WorkItem(BatchJob Job, int Position);

    private sealed class BatchJob(RunState run, BatchSlot slot, int[] indices, RankBatch? plan)
    {
        public RunState Run { get; } = run;

        public BatchSlot Slot { get; } = slot;

        public int[] Indices { get; } = indices;

        public RankBatch? Plan { get; } = plan;

        public bool[] Good { get; } = new bool[indices.Length];

        public (int Width, int Height)[] SourceSizes { get; } = new (int, int)[indices.Length];

        public int Remaining = indices.Length;

        public Exception? Failure;

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private int[] _present = [];

        private (int Width, int Height)[] _presentSizes = [];

        public void Complete()
        {
            // Compact: move good samples down over the holes bad ones left.
            var present = new List<int>(Indices.Length);
            var sizes = new List<(int, int)>(Indices.Length);
            for (var p = 0; p < Indices.Length; p++)
            {
                if (!Good[p])
                {
                    continue;
                }
                if (present.Count != p)
                {
                    Slot.MoveSample(p, present.Count);
                }
                present.Add(Indices[p]);
                sizes.Add(SourceSizes[p]);
            }
            _present = [.. present];
            _presentSizes = [.. sizes];
            Done.TrySetResult();
        }

        public Batch ToBatch(Action release)
        {
            var n = _present.Length;
            var images = Slot.Images.narrow(0, 0, n);
            var labels = Slot.Labels.narrow(0, 0, n);
            var offsets = Slot.FloatOutput ? null : Slot.Offsets.narrow(0, 0, n);
            return new Batch(images, labels, offsets, _present, _presentSizes, Indices.Length, Plan, release);
        }
    }
}
