namespace Plateau.Contracts.Specs;

/// <summary>
/// The one rule for splitting a <see cref="BatchSpec"/> across ranks, used by the spec validator (is
/// there any world size the batch fits?) and by group formation (which world size, which split).
/// </summary>
public static class BatchSplit
{
    /// <summary>The global and per-rank batch for <paramref name="ranks"/> ranks, or null when the batch does
    /// not split evenly across that many (or gives neither size).</summary>
    public static (int Global, int PerRank)? For(BatchSpec batch, int ranks)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (ranks < 1)
        {
            return null;
        }

        return (batch.Global, batch.PerDevice) switch
        {
            ({ } g, { } p) => g == p * ranks ? (g, p) : null,
            ({ } g, null) => g % ranks == 0 && g >= ranks ? (g, g / ranks) : null,
            (null, { } p) => (p * ranks, p),
            _ => null,
        };
    }

    /// <summary>The world sizes a job can form with: whole workers from workers.min to workers.max, each
    /// contributing devicesPerWorker ranks, largest first (formation prefers the most workers).</summary>
    public static IEnumerable<int> WorldSizes(WorkersSpec workers)
    {
        ArgumentNullException.ThrowIfNull(workers);
        for (var count = workers.Max; count >= workers.Min; count--)
        {
            yield return count * workers.DevicesPerWorker;
        }
    }
}
