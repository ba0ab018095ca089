namespace Plateau.Collective.Buckets;

/// <summary>
/// Step-by-step gradient all-reduce in buckets, shaped like DDP's reducer: the trainer copies a
/// bucket's gradients into <see cref="Buffer"/> and calls <see cref="MarkReady"/>; reductions start
/// at once but strictly in bucket-index order (every rank must issue them in the same order), so
/// copying later buckets overlaps with communicating earlier ones. <see cref="WaitAllAsync"/> ends the
/// step. Bucket buffers are allocated once (pinned) and reused every step, or are the caller's memory.
/// </summary>
public sealed class BucketReducer
{
    private readonly ICollective _group;
    private readonly Memory<float>[] _buffers;
    private readonly bool[] _ready;
    private readonly Lock _lock = new();
    private int _nextToLaunch;
    private Task _tail = Task.CompletedTask;

    public BucketReducer(ICollective group, IReadOnlyList<Bucket> buckets, ReduceOp op = ReduceOp.Average)
        : this(group, buckets, Allocate(buckets), op)
    {
    }

    /// <param name="buffers">The memory each bucket is reduced in, exactly its <see cref="Bucket.ElementCount"/> floats (for
    /// example page-locked host memory a GPU copies into); it must stay valid as long as the reducer is used.</param>
    public BucketReducer(ICollective group, IReadOnlyList<Bucket> buckets, IReadOnlyList<Memory<float>> buffers, ReduceOp op = ReduceOp.Average)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(buckets);
        ArgumentNullException.ThrowIfNull(buffers);
        if (buffers.Count != buckets.Count)
        {
            throw new ArgumentException($"{buffers.Count} buffers for {buckets.Count} buckets", nameof(buffers));
        }

        for (var i = 0; i < buckets.Count; i++)
        {
            if (buffers[i].Length != buckets[i].ElementCount)
            {
                throw new ArgumentException($"bucket {i} holds {buckets[i].ElementCount} elements but its buffer {buffers[i].Length}", nameof(buffers));
            }
        }

        _group = group;
        Buckets = buckets;
        Op = op;
        _buffers = [.. buffers];
        _ready = new bool[buckets.Count];
    }

    public IReadOnlyList<Bucket> Buckets { get; }

    public ReduceOp Op { get; }

    /// <summary>Flat gradient buffer of bucket <paramref name="bucketIndex"/> (entries at their offsets).</summary>
    public Memory<float> Buffer(int bucketIndex) => _buffers[bucketIndex];

    /// <summary>Declares bucket <paramref name="bucketIndex"/>'s buffer filled for this step; launches every bucket whose predecessors are all launched.</summary>
    public void MarkReady(int bucketIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bucketIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(bucketIndex, Buckets.Count);
        lock (_lock)
        {
            if (_ready[bucketIndex])
            {
                throw new InvalidOperationException($"bucket {bucketIndex} was already marked ready in this step");
            }
            _ready[bucketIndex] = true;
            while (_nextToLaunch < Buckets.Count && _ready[_nextToLaunch])
            {
                var buffer = _buffers[_nextToLaunch];
                var previous = _tail;
                _tail = ReduceAfterAsync(previous, buffer);
                _nextToLaunch++;
            }
        }
    }

    /// <summary>Waits for every bucket's reduction and resets for the next step.</summary>
    public async Task WaitAllAsync(CancellationToken cancellationToken = default)
    {
        Task tail;
        lock (_lock)
        {
            if (_nextToLaunch != Buckets.Count)
            {
                var missing = Enumerable.Range(0, Buckets.Count).Where(i => !_ready[i]).ToArray();
                throw new InvalidOperationException($"buckets {string.Join(", ", missing)} were never marked ready in this step");
            }
            tail = _tail;
        }
        await tail.WaitAsync(cancellationToken);
        lock (_lock)
        {
            Array.Clear(_ready);
            _nextToLaunch = 0;
            _tail = Task.CompletedTask;
        }
    }

    private static Memory<float>[] Allocate(IReadOnlyList<Bucket> buckets)
    {
        ArgumentNullException.ThrowIfNull(buckets);
        return [.. buckets.Select(b => (Memory<float>)GC.AllocateUninitializedArray<float>(checked((int)b.ElementCount), pinned: true))];
    }

    private async Task ReduceAfterAsync(Task previous, Memory<float> buffer)
    {
        await previous;
        await _group.AllReduceAsync(buffer, Op, CancellationToken.None);
    }
}
