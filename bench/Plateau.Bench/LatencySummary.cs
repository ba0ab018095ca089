using System.Globalization;

namespace Plateau.Bench;

/// <summary>Nearest-rank percentiles of a set of latencies in milliseconds (0 for an empty set).</summary>
internal sealed record LatencySummary(int Count, double P50, double P99, double Max)
{
    public static LatencySummary Of(IEnumerable<double> milliseconds)
    {
        var sorted = milliseconds.Order().ToArray();
        return sorted.Length == 0
            ? new LatencySummary(0, 0, 0, 0)
            : new LatencySummary(sorted.Length, Percentile(sorted, 0.50), Percentile(sorted, 0.99), sorted[^1]);
    }

    /// <summary>The row's latency columns: p50, p99, max.</summary>
    public string Columns() => string.Create(CultureInfo.InvariantCulture, $"{P50,9:F1}{P99,9:F1}{Max,9:F1}");

    private static double Percentile(double[] sorted, double q) => sorted[Math.Max(0, (int)Math.Ceiling(q * sorted.Length) - 1)];
}
