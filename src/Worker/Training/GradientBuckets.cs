using Plateau.Collective;
using Plateau.Collective.Buckets;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Plateau.Worker.Training;

/// <summary>
/// The rank's gradients in DDP-style buckets (<see cref="BucketAssignment"/>), all-reduced (average) by a
/// <see cref="BucketReducer"/>: after backward each bucket is packed and launched while the next one is
/// packed, then the averaged values are written back into the gradients. Two extra elements ride in the
/// last bucket — the ranks' pause and stop votes — so every rank learns at the same step whether any rank
/// asked to pause or stop, without an extra round trip. Each gradient's slot in its bucket is a tensor
/// view over the pinned bucket array, so packing and unpacking are single native copies (device to host
/// and back on a GPU).
/// </summary>
public sealed class GradientBuckets : IDisposable
{
    /// <summary>Name of the control slot in the bucket layout (never a model parameter name: it has a space).</summary>
    public const string ControlName = "control votes";

    private const int ControlElements = 2;
    private readonly Tensor[] _parameters;
    private readonly BucketReducer _reducer;
    private readonly Tensor[] _flats;
    private readonly (int Bucket, BucketEntry Entry, Tensor View)[][] _slots;
    private readonly (int Bucket, long Offset) _control;

    public GradientBuckets(ICollective group, IReadOnlyList<(string Name, Tensor Parameter)> parameters, long bucketCapBytes = BucketAssignment.DefaultBucketCapBytes)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(parameters);
        _parameters = [.. parameters.Select(p => p.Parameter)];
        // The control slot is registered first, so the reverse-order assignment puts it at the very end.
        List<ParameterSpec> specs = [new ParameterSpec(ControlName, [ControlElements]), .. parameters.Select(p => Spec(p.Name, p.Parameter))];
        var buckets = BucketAssignment.Assign(specs, bucketCapBytes);
        _reducer = new BucketReducer(group, buckets, ReduceOp.Average);
        _flats = new Tensor[buckets.Count];
        _slots = new (int, BucketEntry, Tensor)[buckets.Count][];
        for (var b = 0; b < buckets.Count; b++)
        {
            if (!MemoryMarshal.TryGetArray<float>(_reducer.Buffer(b), out var segment) || segment.Offset != 0 || segment.Array is null)
            {
                throw new InvalidOperationException($"bucket {b}'s buffer is not a whole array");
            }

            // Shares the pinned array's memory: what is copied into a view lands in the bucket buffer.
            _flats[b] = from_array(segment.Array);
            _slots[b] = [.. buckets[b].Entries.Where(e => e.ParameterIndex != 0).Select(e =>
                (b, e, _flats[b].narrow(0, e.Offset, e.Length).view(_parameters[e.ParameterIndex - 1].shape)))];
        }

        var control = buckets.SelectMany(b => b.Entries.Select(e => (Bucket: b.Index, Entry: e))).Single(e => e.Entry.ParameterIndex == 0);
        _control = (control.Bucket, control.Entry.Offset);
        WorldSize = group.WorldSize;
    }

    public IReadOnlyList<Bucket> Buckets => _reducer.Buckets;

    public int WorldSize { get; }

    /// <summary>Time the last <see cref="AllReduce"/> spent blocked on the network (not overlapped with packing).</summary>
    public TimeSpan LastWait { get; private set; }

    /// <summary>
    /// Whether the last <see cref="AllReduce"/>'s averaged gradients were all finite. They are the same
    /// bits on every rank (the ring computes each average once), so every rank reaches the same verdict
    /// without a vote; a NaN or ±Inf on any rank reaches all of them through the sum.
    /// </summary>
    public bool LastFinite { get; private set; } = true;

    public long GradientElements => _reducer.Buckets.Sum(b => b.ElementCount) - ControlElements;

    /// <summary>The layout ranks verify against each other before the first step.</summary>
    public static ParameterLayout Layout(IEnumerable<(string Name, Tensor Parameter)> parameters) =>
        new([.. parameters.Select(p => Spec(p.Name, p.Parameter))]);

    /// <summary>Packs every gradient (zeros where a parameter got none), all-reduces them averaged across the
    /// ranks and writes the averages back, all on the calling (trainer) thread; the network work runs on
    /// I/O threads meanwhile. Returns the combined votes: any rank voting makes it true.</summary>
    public StepVotes AllReduce(StepVotes local, CancellationToken cancellationToken)
    {
        using (no_grad())
        {
            for (var b = 0; b < _slots.Length; b++)
            {
                foreach (var (_, entry, view) in _slots[b])
                {
                    using var grad = _parameters[entry.ParameterIndex - 1].grad;
                    if (grad is null)
                    {
                        view.zero_();
                    }
                    else
                    {
                        view.copy_(grad);
                    }
                }

                if (b == _control.Bucket)
                {
                    var votes = _reducer.Buffer(b).Span.Slice((int)_control.Offset, ControlElements);
                    votes[0] = local.Pause ? 1f : 0f;
                    votes[1] = local.Stop ? 1f : 0f;
                }

                _reducer.MarkReady(b);
            }

            var waitStarted = System.Diagnostics.Stopwatch.GetTimestamp();
            _reducer.WaitAllAsync(cancellationToken).GetAwaiter().GetResult();
            LastWait = System.Diagnostics.Stopwatch.GetElapsedTime(waitStarted);
            LastFinite = true;
            foreach (var flat in _flats)
            {
                using var finite = isfinite(flat);
                using var all = finite.all();
                if (!all.item<bool>())
                {
                    LastFinite = false;
                    break;
                }
            }

            if (!LastFinite)
            {
                return Agreed();
            }

            foreach (var slots in _slots)
            {
                foreach (var (_, entry, view) in slots)
                {
                    // A parameter outside this step's graph keeps no gradient, as in DDP with find_unused_parameters.
                    using var grad = _parameters[entry.ParameterIndex - 1].grad;
                    grad?.copy_(view);
                }
            }
        }

        return Agreed();
    }

    private StepVotes Agreed()
    {
        var agreed = _reducer.Buffer(_control.Bucket).Span.Slice((int)_control.Offset, ControlElements);
        return new StepVotes(agreed[0] > 0, agreed[1] > 0);
    }

    public void Dispose()
    {
        foreach (var slots in _slots)
        {
            foreach (var (_, _, view) in slots)
            {
                view.Dispose();
            }
        }

        foreach (var flat in _flats)
        {
            flat.Dispose();
        }
    }

    private static ParameterSpec Spec(string name, Tensor parameter) => new(name, parameter.shape, parameter.requires_grad);
}
