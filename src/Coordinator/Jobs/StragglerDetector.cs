namespace Plateau.Coordinator.Jobs;

/// <summary>
/// Finds a rank much slower than its peers. In synchronous data parallelism every rank runs at the
/// pace of the slowest, so throughput cannot tell; what differs is each rank's own work per step (the
/// step time not spent blocked on the ring): the straggler's is high, and the others wait for it. A
/// rank is reported when its own time exceeds <see cref="Factor"/> × the median of the other ranks'
/// for <see cref="Reports"/> consecutive reports, and reported again only after it recovered.
/// </summary>
public sealed class StragglerDetector
{
    /// <summary>How many times the others' median a rank's own work per step must take.</summary>
    public const double Factor = 2.0;

    /// <summary>Consecutive slow reports before a rank is named (one slow window is noise).</summary>
    public const int Reports = 3;

    private readonly Dictionary<int, double> _latest = [];
    private readonly Dictionary<int, int> _slowInARow = [];
    private readonly HashSet<int> _named = [];

    /// <summary>Takes one report; returns the verdict when <paramref name="rank"/> has just become a straggler.</summary>
    public StragglerVerdict? Observe(int rank, double ownSecondsPerStep)
    {
        if (!double.IsFinite(ownSecondsPerStep) || ownSecondsPerStep <= 0)
        {
            return null;
        }

        _latest[rank] = ownSecondsPerStep;
        if (OthersMedian(rank) is not { } median)
        {
            return null;
        }

        var ratio = ownSecondsPerStep / median;
        if (ratio < Factor)
        {
            _slowInARow[rank] = 0;
            _named.Remove(rank);
            return null;
        }

        var slow = _slowInARow[rank] = _slowInARow.GetValueOrDefault(rank) + 1;
        return slow >= Reports && _named.Add(rank) ? new StragglerVerdict(rank, ownSecondsPerStep, median, ratio) : null;
    }

    /// <summary>The rank's latest own work per step over the other ranks' median; null before both are known.</summary>
    public double? RatioOf(int rank) =>
        _latest.TryGetValue(rank, out var own) && OthersMedian(rank) is { } median ? own / median : null;

    /// <summary>Forgets everything (a new generation has other ranks).</summary>
    public void Reset()
    {
        _latest.Clear();
        _slowInARow.Clear();
        _named.Clear();
    }

    private double? OthersMedian(int rank)
    {
        var others = _latest.Where(r => r.Key != rank).Select(r => r.Value).Order().ToArray();
        if (others.Length == 0)
        {
            return null;
        }

        return others.Length % 2 == 1 ? others[others.Length / 2] : (others[(others.Length / 2) - 1] + others[others.Length / 2]) / 2;
    }
}
