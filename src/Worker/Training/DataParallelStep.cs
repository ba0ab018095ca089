using System.Diagnostics;
using Plateau.Collective;
using static TorchSharp.torch;

namespace Plateau.Worker.Training;

/// <summary>
/// One rank's share of data-parallel SGD: forward, mean cross-entropy on the local batch, backward,
/// bucketed gradient all-reduce (average over ranks, so equal local batches give the global-batch
/// gradient), SGD update at the rate the epoch plan gives. BatchNorm statistics stay local, as in the
/// paper's per-GPU BN. The same object serves the trainer loop, the equivalence test and the benchmark.
/// </summary>
public sealed class DataParallelStep : IDisposable
{
    private readonly nn.Module<Tensor, Tensor> _model;
    private readonly (string Name, Tensor Parameter)[] _parameters;
    private readonly GradientBuckets _buckets;
    private readonly BackwardProbes? _probes;

    /// <param name="overlapReduction">Start each gradient bucket's all-reduce while backward still runs
    /// (<see cref="BackwardProbes"/>); the result is bit-identical to reducing after backward.</param>
    /// <param name="firstBucketCapBytes">DDP's small first bucket (1 MiB), so communication starts early.</param>
    /// <param name="staging">How gradients reach the host buffers; null: from the model's device (<see cref="GradientStaging"/>).</param>
    public DataParallelStep(nn.Module<Tensor, Tensor> model, ICollective group, double momentum, double weightDecay, bool nesterov,
        long bucketCapBytes = Plateau.Collective.Buckets.BucketAssignment.DefaultBucketCapBytes, bool overlapReduction = false,
        long firstBucketCapBytes = Plateau.Collective.Buckets.BucketAssignment.DefaultFirstBucketCapBytes, GradientStaging? staging = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(group);
        _model = model;
        Group = group;
        _parameters = [.. model.named_parameters().Select(p => (p.name, (Tensor)p.parameter))];
        _buckets = new GradientBuckets(group, _parameters, bucketCapBytes, firstBucketCapBytes, staging);
        _probes = overlapReduction ? new BackwardProbes(model, _parameters, _buckets) : null;
        Optimizer = new SgdOptimizer(_parameters, momentum, weightDecay, nesterov);
    }

    /// <summary>Whether gradient buckets are all-reduced while backward runs.</summary>
    public bool OverlapsReduction => _probes is not null;

    /// <summary>The modules whose backward launches buckets (empty without overlap).</summary>
    public IReadOnlyList<string> ProbedModules => _probes is null ? [] : [.. _probes.ProbedModules];

    public ICollective Group { get; }

    public SgdOptimizer Optimizer { get; }

    public nn.Module<Tensor, Tensor> Model => _model;

    public GradientBuckets Buckets => _buckets;

    /// <summary>Runs one step on <paramref name="images"/> (already on the model's device, normalised) and
    /// <paramref name="labels"/>, synchronously on the calling thread (TorchSharp dispose scopes are
    /// per thread). Every rank of the group must call it the same number of times.</summary>
    /// <param name="globalCount">Samples of the whole global batch when the ranks' shares differ (an epoch's
    /// partial last batch): this rank's mean loss is weighted by count × world / globalCount, so the ranks'
    /// average is the mean over all globalCount samples, as one process would compute it. A rank with no
    /// samples contributes zero gradients. Null: equal shares, the plain average.</param>
    public StepOutcome Step(Tensor images, Tensor labels, double learningRate, StepVotes votes, CancellationToken cancellationToken, int? globalCount = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        var started = Stopwatch.GetTimestamp();
        _model.train();
        double lossSum;
        long correct;
        long forwarded;
        var count = images.shape[0];
        using (var scope = NewDisposeScope())
        {
            // Gradients to none, as PyTorch's zero_grad() does by default: backward then writes fresh
            // gradients instead of zero-filling and accumulating into the old ones (two passes over every
            // parameter's worth of memory saved per step).
            _model.zero_grad(set_to_none: true);
            _buckets.Begin(votes, duringBackward: _probes is not null);
            using var armed = _probes?.Arm();

            if (count == 0)
            {
                // Nothing to forward (BatchNorm refuses an empty batch), but the all-reduce needs this rank, and
                // every parameter needs a gradient so that the update below is the same on every rank.
                var zero = _parameters.Where(p => p.Parameter.requires_grad).Select(p => p.Parameter.sum().mul(0)).Aggregate((a, b) => a.add(b));
                forwarded = Stopwatch.GetTimestamp();
                zero.backward();
                (lossSum, correct) = (0, 0);
            }
            else
            {
                var logits = _model.call(images);
                var loss = nn.functional.cross_entropy(logits, labels);
                forwarded = Stopwatch.GetTimestamp();
                var weight = globalCount is { } total && total != count * _buckets.WorldSize ? (double)count * _buckets.WorldSize / total : 1.0;
                (weight == 1.0 ? loss : loss.mul(weight)).backward();
                using (no_grad())
                {
                    lossSum = loss.item<float>() * count;
                    correct = logits.argmax(1).eq(labels).sum().item<long>();
                }
            }
        }

        var computed = Stopwatch.GetTimestamp();
        var agreed = _buckets.AllReduce(votes, cancellationToken);
        var reduced = Stopwatch.GetTimestamp();
        var skipped = !_buckets.LastFinite;
        if (!skipped)
        {
            Optimizer.Step(learningRate);
        }

        var done = Stopwatch.GetTimestamp();
        return new StepOutcome(count, lossSum, correct, agreed,
            Stopwatch.GetElapsedTime(started, computed), Stopwatch.GetElapsedTime(computed, reduced), Stopwatch.GetElapsedTime(reduced, done), _buckets.LastWait, skipped,
            Stopwatch.GetElapsedTime(started, forwarded), _buckets.LastExposed, _buckets.LastLaunchedDuringBackward);
    }

    public void Dispose()
    {
        _probes?.Dispose();
        Optimizer.Dispose();
        _buckets.Dispose();
    }
}
