using Plateau.Collective;
using Plateau.Collective.Buckets;
using System.Diagnostics;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Plateau.Worker.Training;

/// <summary>
/// The rank's gradients in DDP-style buckets (<see cref="BucketAssignment"/>), all-reduced (average) by a
/// <see cref="BucketReducer"/>, then the averaged values are written back into the gradients. Two extra
/// elements ride in the last bucket — the ranks' pause and stop votes — so every rank learns at the same
/// step whether any rank asked to pause or stop, without an extra round trip. Each gradient's slot in its
/// bucket is a tensor view over the pinned bucket array, so packing and unpacking are single native copies
/// (device to host and back on a GPU).
/// </summary>
/// <remarks>
/// Packing walks one cursor over the slots in launch order (bucket 0's entries, then bucket 1's, …): a slot is
/// packed once its parameter's gradient is final, and a bucket is launched once its last slot is packed. Without
/// overlap the whole walk happens after backward (<see cref="AllReduce"/>). With overlap
/// (<see cref="BackwardProbes"/>) autograd calls <see cref="PackFinished"/> at bucket boundaries while backward
/// still runs, and the cursor advances as far as gradients are final; <see cref="AllReduce"/> packs the rest.
/// Either way every bucket holds the same bits and is launched in the same order, so the reduced gradients are
/// bit-identical. Why "final" is safe to decide from <c>grad</c> being defined: see <see cref="PackFinished"/>.
/// </remarks>
public sealed class GradientBuckets : IDisposable
{
    /// <summary>Name of the control slot in the bucket layout (never a model parameter name: it has a space).</summary>
    public const string ControlName = "control votes";

    private const int ControlElements = 2;
    private readonly Tensor[] _parameters;
    private readonly BucketReducer _reducer;
    private readonly Tensor[] _flats;
    private readonly (int Bucket, BucketEntry Entry, Tensor View)[][] _slots;
    private readonly (int Bucket, BucketEntry Entry, Tensor View)[] _order;
    private readonly int[] _bucketEnds;
    private readonly (int Bucket, long Offset) _control;
    private int _cursor;
    private int _launched;
    private bool _begun;
    private bool _duringBackward;
    private Exception? _probeFailure;

    public GradientBuckets(ICollective group, IReadOnlyList<(string Name, Tensor Parameter)> parameters, long bucketCapBytes = BucketAssignment.DefaultBucketCapBytes,
        long firstBucketCapBytes = BucketAssignment.DefaultFirstBucketCapBytes)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(parameters);
        _parameters = [.. parameters.Select(p => p.Parameter)];
        // The control slot is registered first, so the reverse-order assignment puts it at the very end.
        List<ParameterSpec> specs = [new ParameterSpec(ControlName, [ControlElements]), .. parameters.Select(p => Spec(p.Name, p.Parameter))];
        var buckets = BucketAssignment.Assign(specs, bucketCapBytes, firstBucketCapBytes);
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

        _order = [.. _slots.SelectMany(s => s)];
        _bucketEnds = new int[buckets.Count];
        for (int b = 0, end = 0; b < buckets.Count; b++)
        {
            end += _slots[b].Length;
            _bucketEnds[b] = end;
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
    /// Communication the last step left exposed: from the end of backward (the call to <see cref="AllReduce"/>)
    /// until every bucket was reduced — packing what backward had not packed, then waiting on the ring. Without
    /// overlap this is the whole all-reduce but the unpacking; with overlap, what did not hide behind backward.
    /// </summary>
    public TimeSpan LastExposed { get; private set; }

    /// <summary>Buckets of the last step launched while backward still ran (0 without overlap).</summary>
    public int LastLaunchedDuringBackward { get; private set; }

    /// <summary>
    /// Whether the last <see cref="AllReduce"/>'s averaged gradients were all finite. They are the same
    /// bits on every rank (the ring computes each average once), so every rank reaches the same verdict
    /// without a vote; a NaN or ±Inf on any rank reaches all of them through the sum.
    /// </summary>
    public bool LastFinite { get; private set; } = true;

    public long GradientElements => _reducer.Buckets.Sum(b => b.ElementCount) - ControlElements;

    /// <summary>The parameters (registration order) whose gradients are packed last in each bucket, by bucket:
    /// once autograd has produced that one, the bucket is normally complete (<see cref="BackwardProbes"/>
    /// probes the modules that own them).</summary>
    internal IReadOnlyList<int> LastParameterOfBucket => [.. _slots.Where(s => s.Length > 0).Select(s => s[^1].Entry.ParameterIndex - 1)];

    /// <summary>The layout ranks verify against each other before the first step.</summary>
    public static ParameterLayout Layout(IEnumerable<(string Name, Tensor Parameter)> parameters) =>
        new([.. parameters.Select(p => Spec(p.Name, p.Parameter))]);

    /// <summary>
    /// Starts a step before its backward: resets the packing cursor and writes this rank's votes into the control
    /// slot (so the last bucket may launch during backward). With <paramref name="duringBackward"/> the gradients
    /// must all be unset (<c>zero_grad(set_to_none: true)</c>), which is what makes "defined" mean "final".
    /// </summary>
    public void Begin(StepVotes local, bool duringBackward)
    {
        if (duringBackward)
        {
            foreach (var (_, entry, _) in _order)
            {
                using var grad = _parameters[entry.ParameterIndex - 1].grad;
                if (grad is not null)
                {
                    throw new InvalidOperationException($"parameter {entry.ParameterIndex - 1} still holds a gradient: overlapping the all-reduce with backward needs every gradient set to none before backward");
                }
            }
        }

        _cursor = 0;
        _launched = 0;
        _probeFailure = null;
        var votes = _reducer.Buffer(_control.Bucket).Span.Slice((int)_control.Offset, ControlElements);
        votes[0] = local.Pause ? 1f : 0f;
        votes[1] = local.Stop ? 1f : 0f;
        _duringBackward = duringBackward;
        _begun = true;
    }

    /// <summary>
    /// Called by autograd (<see cref="BackwardProbes"/>, on the thread that runs the backward nodes) while backward
    /// runs: packs every slot, in launch order, whose gradient is final, and launches each bucket that is then
    /// complete. Never throws into native code: a failure is kept and rethrown by <see cref="AllReduce"/>.
    /// </summary>
    /// <remarks>
    /// Why a defined gradient is final and safe to copy: gradients are unset before backward (<see cref="Begin"/>
    /// checks). A leaf's gradient is written by its one AccumulateGrad node, which autograd runs once per backward,
    /// only after every use of the parameter has delivered its contribution (the contributions are summed in the
    /// node's input buffer first) — so a parameter used twice (shared weights) stays unset until both uses are in,
    /// and the cursor waits for it. After that node ran nothing writes the gradient again in this backward, and this
    /// method runs on the same engine thread as the AccumulateGrad nodes of the device (CPU: the caller of backward;
    /// CUDA: the device's autograd thread), so the copy cannot race the write.
    /// </remarks>
    internal void PackFinished()
    {
        if (!_duringBackward || _probeFailure is not null)
        {
            return;
        }

        try
        {
            using (no_grad())
            {
                Advance(final: false);
            }
        }
#pragma warning disable CA1031 // an exception must not cross into libtorch's autograd engine; it is rethrown after backward
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _probeFailure = ex;
        }
    }

    /// <summary>Packs every gradient backward has not packed yet (zeros where a parameter got none), all-reduces them
    /// averaged across the ranks and writes the averages back, all on the calling (trainer) thread; the network work
    /// runs on I/O threads meanwhile. Returns the combined votes: any rank voting makes it true.</summary>
    public StepVotes AllReduce(StepVotes local, CancellationToken cancellationToken)
    {
        if (!_begun)
        {
            Begin(local, duringBackward: false);
        }

        var entered = Stopwatch.GetTimestamp();
        _duringBackward = false;
        _begun = false;
        if (_probeFailure is { } failure)
        {
            throw new InvalidOperationException("packing gradients during backward failed", failure);
        }

        LastLaunchedDuringBackward = _launched;
        using (no_grad())
        {
            Advance(final: true);
            var waitStarted = Stopwatch.GetTimestamp();
            _reducer.WaitAllAsync(cancellationToken).GetAwaiter().GetResult();
            LastWait = Stopwatch.GetElapsedTime(waitStarted);
            LastExposed = Stopwatch.GetElapsedTime(entered);
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

            foreach (var (_, entry, view) in _order)
            {
                // A parameter outside this step's graph keeps no gradient, as in DDP with find_unused_parameters.
                using var grad = _parameters[entry.ParameterIndex - 1].grad;
                grad?.copy_(view);
            }
        }

        return Agreed();
    }

    /// <summary>Packs slots from the cursor on and launches the buckets they complete. Not final: stops at the first
    /// gradient not yet produced. Final (after backward): an unset gradient is a parameter outside this step's graph
    /// and is packed as zeros.</summary>
    private void Advance(bool final)
    {
        while (_launched < _bucketEnds.Length)
        {
            while (_cursor < _bucketEnds[_launched])
            {
                var (_, entry, view) = _order[_cursor];
                using var grad = _parameters[entry.ParameterIndex - 1].grad;
                if (grad is null)
                {
                    if (!final)
                    {
                        return;
                    }

                    view.zero_();
                }
                else
                {
                    view.copy_(grad);
                }

                _cursor++;
            }

            _reducer.MarkReady(_launched);
            _launched++;
        }
    }

    private StepVotes Agreed()
    {
        var agreed = _reducer.Buffer(_control.Bucket).Span.Slice((int)_control.Offset, ControlElements);
        return new StepVotes(agreed[0] > 0, agreed[1] > 0);
    }

    public void Dispose()
    {
        foreach (var (_, _, view) in _order)
        {
            view.Dispose();
        }

        foreach (var flat in _flats)
        {
            flat.Dispose();
        }
    }

    private static ParameterSpec Spec(string name, Tensor parameter) => new(name, parameter.shape, parameter.requires_grad);
}
