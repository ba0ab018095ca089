using TorchSharp;
using static TorchSharp.torch;

namespace Plateau.Data.Metrics;

/// <summary>
/// Validation metrics as additive counts, so per-rank results merge exactly (no averages of averages).
/// </summary>
public readonly record struct ClassificationCounts(long Correct1, long Correct5, long Total, double LossSum)
{
    public static ClassificationCounts Zero => default;

    public double Top1Accuracy => Total == 0 ? 0 : (double)Correct1 / Total;

    public double Top5Accuracy => Total == 0 ? 0 : (double)Correct5 / Total;

    public double Top1Error => 1 - Top1Accuracy;

    public double Top5Error => 1 - Top5Accuracy;

    public double MeanLoss => Total == 0 ? 0 : LossSum / Total;

    public ClassificationCounts Merge(ClassificationCounts other) =>
        new(Correct1 + other.Correct1, Correct5 + other.Correct5, Total + other.Total, LossSum + other.LossSum);

    public static ClassificationCounts operator +(ClassificationCounts a, ClassificationCounts b) => a.Merge(b);

    public static ClassificationCounts Add(ClassificationCounts left, ClassificationCounts right) => left.Merge(right);

    public static ClassificationCounts Sum(IEnumerable<ClassificationCounts> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var total = Zero;
        foreach (var p in parts)
        {
            total = total.Merge(p);
        }
        return total;
    }

    /// <summary>
    /// Counts for one batch: <paramref name="logits"/> [n, classes] (any device), <paramref name="labels"/> [n] int64.
    /// Loss is the summed cross-entropy. Top-5 degrades to top-k with k = classes when there are fewer than 5.
    /// </summary>
    public static ClassificationCounts FromLogits(Tensor logits, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(labels);
        if (logits.dim() != 2 || labels.dim() != 1 || logits.shape[0] != labels.shape[0])
        {
            throw new ArgumentException($"logits must be [n, classes] and labels [n]; got [{string.Join(",", logits.shape)}] and [{string.Join(",", labels.shape)}]");
        }
        var n = logits.shape[0];
        if (n == 0)
        {
            return Zero;
        }
        using var scope = NewDisposeScope();
        var k = (int)Math.Min(5, logits.shape[1]);
        var topk = logits.topk(k, dim: 1).indexes;
        var target = labels.to(topk.device).unsqueeze(1);
        var hits = topk.eq(target);
        var c1 = hits.narrow(1, 0, 1).sum().item<long>();
        var c5 = hits.any(1).sum().item<long>();
        var loss = nn.functional.cross_entropy(logits.to_type(ScalarType.Float32), labels.to(logits.device), reduction: nn.Reduction.Sum).item<float>();
        return new ClassificationCounts(c1, c5, n, loss);
    }
}
