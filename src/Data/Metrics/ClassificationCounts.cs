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

    /// <summary>
    /// Counts for multi-view scores: <paramref name="logits"/> [n, views, classes]. Each view's logits become softmax
    /// probabilities (in float64), which are averaged over the views, as the papers average scores; see
    /// <see cref="FromProbabilities"/>.
    /// </summary>
    public static ClassificationCounts FromViewLogits(Tensor logits, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(logits);
        if (logits.dim() != 3)
        {
            throw new ArgumentException($"view logits must be [n, views, classes]; got [{string.Join(",", logits.shape)}]", nameof(logits));
        }
        using var scope = NewDisposeScope();
        var mean = logits.to_type(ScalarType.Float64).softmax(-1).mean([1]);
        return FromProbabilities(mean, labels);
    }

    /// <summary>
    /// Counts for averaged scores: <paramref name="probabilities"/> [n, classes], each row a probability distribution.
    /// Top-1/top-5 rank the averaged probabilities; the loss is the summed negative log of the averaged probability of
    /// the true class (cross-entropy of the averaged prediction; for one view it equals <see cref="FromLogits"/>'s).
    /// </summary>
    public static ClassificationCounts FromProbabilities(Tensor probabilities, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        ArgumentNullException.ThrowIfNull(labels);
        if (probabilities.dim() != 2 || labels.dim() != 1 || probabilities.shape[0] != labels.shape[0])
        {
            throw new ArgumentException($"probabilities must be [n, classes] and labels [n]; got [{string.Join(",", probabilities.shape)}] and [{string.Join(",", labels.shape)}]");
        }
        var n = probabilities.shape[0];
        if (n == 0)
        {
            return Zero;
        }
        using var scope = NewDisposeScope();
        var k = (int)Math.Min(5, probabilities.shape[1]);
        var target = labels.to(probabilities.device).unsqueeze(1);
        var hits = probabilities.topk(k, dim: 1).indexes.eq(target);
        var c1 = hits.narrow(1, 0, 1).sum().item<long>();
        var c5 = hits.any(1).sum().item<long>();
        // The smallest positive double keeps a probability that underflowed to 0 finite (−log ≈ 744).
        var loss = probabilities.to_type(ScalarType.Float64).gather(1, target).clamp_min(double.Epsilon).log().neg().sum().item<double>();
        return new ClassificationCounts(c1, c5, n, loss);
    }
}
