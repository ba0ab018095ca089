using Plateau.Collective;
using Plateau.Collective.Buckets;
using TorchSharp;
using static TorchSharp.torch;

namespace Plateau.Worker.Training;

/// <summary>
/// The rank's gradients in DDP-style buckets (<see cref="BucketAssignment"/>), all-reduced (average) by a
/// <see cref="BucketReducer"/>: after backward each bucket is packed and launched while the next one is
/// packed, then the averaged values are written back into the gradients. Two extra elements ride in the
/// last bucket — the ranks' pause and stop votes — so every rank learns at the same step whether any rank
/// asked to pause or stop, without an extra round trip.
/// </summary>
public sealed class GradientBuckets
{
    /// <summary>Name of the control slot in the bucket layout (never a model parameter name: it has a space).</summary>
    public const string ControlName = "control votes";

    private const int ControlElements = 2;
    private readonly Tensor[] _parameters;
    private readonly BucketReducer _reducer;
    private readonly (int Bucket, long Offset) _control;

    public GradientBuckets(CollectiveGroup group, IReadOnlyList<(string Name, Tensor Parameter)> parameters, long bucketCapBytes = BucketAssignment.DefaultBucketCapBytes)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(parameters);
        _parameters = [.. parameters.Select(p => p.Parameter)];
        // The control slot is registered first, so the reverse-order assignment puts it at the very end.
        List<ParameterSpec> specs = [new ParameterSpec(ControlName, [ControlElements]), .. parameters.Select(p => Spec(p.Name, p.Parameter))];
        var buckets = BucketAssignment.Assign(specs, bucketCapBytes);
        _reducer = new BucketReducer(group, buckets, ReduceOp.Average);
        var entries = buckets.SelectMany(b => b.Entries.Select(e => (Bucket: b.Index, Entry: e))).ToArray();
        var control = entries.Single(e => e.Entry.ParameterIndex == 0);
        _control = (control.Bucket, control.Entry.Offset);
        WorldSize = group.WorldSize;
    }

    public IReadOnlyList<Bucket> Buckets => _reducer.Buckets;

    public int WorldSize { get; }

    public long GradientElements => _reducer.Buckets.Sum(b => b.ElementCount) - ControlElements;

    /// <summary>The layout ranks verify against each other before the first step.</summary>
    public static ParameterLayout Layout(IEnumerable<(string Name, Tensor Parameter)> parameters) =>
        new([.. parameters.Select(p => Spec(p.Name, p.Parameter))]);

    /// <summary>Packs every gradient (zeros where a parameter got none), all-reduces them averaged across the
    /// ranks and writes the averages back, all on the calling (trainer) thread; the network work runs on
    /// I/O threads meanwhile. Returns the combined votes: any rank voting makes it true.</summary>
    public StepVotes AllReduce(StepVotes local, CancellationToken cancellationToken)
    {
        for (var b = 0; b < _reducer.Buckets.Count; b++)
        {
            var bucket = _reducer.Buckets[b];
            var buffer = _reducer.Buffer(b);
            foreach (var entry in bucket.Entries)
            {
                var target = buffer.Span.Slice((int)entry.Offset, (int)entry.Length);
                if (entry.ParameterIndex == 0)
                {
                    target[0] = local.Pause ? 1f : 0f;
                    target[1] = local.Stop ? 1f : 0f;
                    continue;
                }

                Pack(_parameters[entry.ParameterIndex - 1], target);
            }

            _reducer.MarkReady(b);
        }

        _reducer.WaitAllAsync(cancellationToken).GetAwaiter().GetResult();
        for (var b = 0; b < _reducer.Buckets.Count; b++)
        {
            var buffer = _reducer.Buffer(b);
            foreach (var entry in _reducer.Buckets[b].Entries)
            {
                if (entry.ParameterIndex != 0)
                {
                    Unpack(buffer.Span.Slice((int)entry.Offset, (int)entry.Length), _parameters[entry.ParameterIndex - 1]);
                }
            }
        }

        var votes = _reducer.Buffer(_control.Bucket).Span.Slice((int)_control.Offset, ControlElements);
        return new StepVotes(votes[0] > 0, votes[1] > 0);
    }

    private static ParameterSpec Spec(string name, Tensor parameter) => new(name, parameter.shape, parameter.requires_grad);

    private static void Pack(Tensor parameter, Span<float> target)
    {
        using var grad = parameter.grad;
        if (grad is null)
        {
            target.Clear();
            return;
        }

        using var host = HostContiguous(grad);
        host.data<float>().CopyTo(target);
    }

    private static void Unpack(ReadOnlySpan<float> source, Tensor parameter)
    {
        using var grad = parameter.grad;
        if (grad is null)
        {
            return; // a parameter outside this step's graph keeps no gradient, as in DDP with find_unused_parameters
        }

        if (grad.device_type == DeviceType.CPU && grad.is_contiguous() && grad.dtype == ScalarType.Float32)
        {
            grad.data<float>().CopyFrom(source);
            return;
        }

        using var host = empty(grad.shape, ScalarType.Float32);
        host.data<float>().CopyFrom(source);
        using var noGrad = no_grad();
        grad.copy_(host);
    }

    private static Tensor HostContiguous(Tensor grad)
    {
        var host = grad.device_type == DeviceType.CPU ? grad.alias() : grad.cpu();
        if (host.dtype != ScalarType.Float32)
        {
            var converted = host.to_type(ScalarType.Float32);
            host.Dispose();
            host = converted;
        }

        if (!host.is_contiguous())
        {
            var contiguous = host.contiguous();
            host.Dispose();
            host = contiguous;
        }

        return host;
    }
}
