using Plateau.Data.Randomness;

namespace Plateau.Data.Sampling;

/// <summary>
/// The exact data plan (DESIGN.md invariant 3). The epoch order is a seeded permutation that depends only on
/// (seed, epoch); the only resume state is the global cursor, the number of samples of the epoch's order already
/// consumed by all ranks together.
/// <para>
/// Batching rule: from cursor <c>c</c>, global batch <c>k</c> covers order positions
/// <c>[c + kB, min(c + (k+1)B, N))</c>; the last one may be partial, nothing is padded or dropped. Within a global batch
/// of <c>b</c> samples, rank <c>r</c> of <c>w</c> takes the contiguous positions
/// <c>[r*(b/w) + min(r, b%w), (r+1)*(b/w) + min(r+1, b%w))</c>: the first <c>b%w</c> ranks hold one sample more. So
/// every position in <c>[c, N)</c> belongs to exactly one rank, whatever <c>w</c> was before the resume.
/// </para>
/// </summary>
public sealed class DistributedSampler
{
    private readonly object _cacheLock = new();
    private int _cachedEpoch = -1;
    private int[]? _cachedOrder;

    /// <param name="datasetSize">Number of samples in the dataset (N).</param>
    /// <param name="globalBatch">Samples per optimiser step across all ranks (B).</param>
    /// <param name="seed">Job seed; the order of epoch e is a pure function of (seed, e).</param>
    /// <param name="shuffle">False keeps dataset order (validation, debugging).</param>
    public DistributedSampler(int datasetSize, int globalBatch, int seed, bool shuffle = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(datasetSize, 1, nameof(datasetSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(globalBatch, 1, nameof(globalBatch));
        DatasetSize = datasetSize;
        GlobalBatch = globalBatch;
        Seed = seed;
        Shuffle = shuffle;
    }

    public int DatasetSize { get; }

    public int GlobalBatch { get; }

    public int Seed { get; }

    public bool Shuffle { get; }

    /// <summary>Global batches in a whole epoch started at cursor 0 (the last may be partial).</summary>
    public int BatchesPerEpoch => (DatasetSize + GlobalBatch - 1) / GlobalBatch;

    /// <summary>Global batches left when resuming at <paramref name="cursor"/>.</summary>
    public int BatchesRemaining(long cursor)
    {
        ValidateCursor(cursor);
        return (int)((DatasetSize - cursor + GlobalBatch - 1) / GlobalBatch);
    }

    /// <summary>The epoch's sample order: a permutation of [0, N) (Fisher-Yates over <see cref="CounterRandom"/>).</summary>
    public int[] EpochOrder(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        lock (_cacheLock)
        {
            if (_cachedEpoch == epoch && _cachedOrder is not null)
            {
                return _cachedOrder;
            }
        }
        var order = new int[DatasetSize];
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }
        if (Shuffle)
        {
            var rng = new CounterRandom((ulong)Seed, (ulong)epoch, 0, CounterRandom.Streams.EpochPermutation);
            rng.Shuffle(order);
        }
        lock (_cacheLock)
        {
            _cachedEpoch = epoch;
            _cachedOrder = order;
        }
        return order;
    }

    /// <summary>
    /// The batches rank <paramref name="rank"/> of <paramref name="worldSize"/> processes from
    /// <paramref name="cursor"/> to the end of <paramref name="epoch"/>, one per global batch (so every rank yields the
    /// same number of batches, some possibly empty).
    /// </summary>
    public IEnumerable<RankBatch> RankSlice(int epoch, long cursor, int rank, int worldSize)
    {
        ValidateCursor(cursor);
        ValidateRank(rank, worldSize);
        var order = EpochOrder(epoch);
        return Enumerate(order, epoch, cursor, rank, worldSize);
    }

    /// <summary>The single rank batch of the global batch starting at <paramref name="cursor"/>.</summary>
    public RankBatch RankBatchAt(int epoch, long cursor, int rank, int worldSize)
    {
        if (cursor >= DatasetSize)
        {
            throw new ArgumentOutOfRangeException(nameof(cursor), cursor, $"cursor {cursor} is at or past the end of the epoch ({DatasetSize} samples)");
        }
        return RankSlice(epoch, cursor, rank, worldSize).First();
    }

    private IEnumerable<RankBatch> Enumerate(int[] order, int epoch, long cursor, int rank, int worldSize)
    {
        for (var start = cursor; start < DatasetSize; start += GlobalBatch)
        {
            var b = (int)Math.Min(GlobalBatch, DatasetSize - start);
            var (lo, hi) = ShareOf(b, rank, worldSize);
            var indices = new int[hi - lo];
            Array.Copy(order, start + lo, indices, 0, hi - lo);
            yield return new RankBatch(epoch, start, start + b, b, indices);
        }
    }

    /// <summary>Rank r's half-open share [lo, hi) of <paramref name="count"/> items split contiguously among w ranks.</summary>
    public static (int Lo, int Hi) ShareOf(int count, int rank, int worldSize)
    {
        ValidateRank(rank, worldSize);
        var q = count / worldSize;
        var rem = count % worldSize;
        var lo = (rank * q) + Math.Min(rank, rem);
        var hi = ((rank + 1) * q) + Math.Min(rank + 1, rem);
        return (lo, hi);
    }

    /// <summary>
    /// Exact validation partition: rank r evaluates dataset indices [lo, hi) in dataset order, split as in
    /// <see cref="ShareOf"/>; every sample is evaluated exactly once across ranks, no padding duplicates.
    /// </summary>
    public static (int Lo, int Hi) ValidationRange(int datasetSize, int rank, int worldSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(datasetSize);
        return ShareOf(datasetSize, rank, worldSize);
    }

    /// <summary>Rank r's validation indices cut into local batches of at most <paramref name="batchSize"/>.</summary>
    public static IEnumerable<int[]> ValidationBatches(int datasetSize, int batchSize, int rank, int worldSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1, nameof(batchSize));
        var (lo, hi) = ValidationRange(datasetSize, rank, worldSize);
        for (var start = lo; start < hi; start += batchSize)
        {
            var n = Math.Min(batchSize, hi - start);
            var batch = new int[n];
            for (var i = 0; i < n; i++)
            {
                batch[i] = start + i;
            }
            yield return batch;
        }
    }

    private void ValidateCursor(long cursor)
    {
        if (cursor < 0 || cursor > DatasetSize)
        {
            throw new ArgumentOutOfRangeException(nameof(cursor), cursor, $"cursor must be within [0, {DatasetSize}] (samples of the epoch consumed)");
        }
    }

    private static void ValidateRank(int rank, int worldSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(worldSize, 1, nameof(worldSize));
        if (rank < 0 || rank >= worldSize)
        {
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"rank must be within [0, {worldSize})");
        }
    }
}
