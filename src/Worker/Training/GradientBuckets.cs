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
/// step whether any rank asked to pause or stop, without an extra round trip. How gradients reach the host buffers
/// depends on <see cref="GradientStaging"/>: <see cref="GradientStaging.Direct"/> (CPU) makes each gradient's slot a tensor
/// view over the pinned bucket array, so packing and unpacking are one native copy per gradient;
/// <see cref="GradientStaging.Staged"/> (GPU) packs into a flat tensor per bucket on the device and moves each bucket to
/// page-locked host memory and back in one copy each (<see cref="BucketStaging"/>).
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
    private readonly BucketStaging? _staging;
    private readonly IReadOnlyList<Tensor> _flats;
    private readonly (int Bucket, BucketEntry Entry, Tensor View)[][] _slots;
    private readonly (int Bucket, BucketEntry Entry, Tensor View)[] _order;
    private readonly int[] _bucketEnds;
    private readonly (int Bucket, long Offset) _control;
    private int _cursor;
    private int _launched;
    private bool _begun;
    private bool _duringBackward;
    private Exception? _probeFailure;

    /// <param name="staging">Null: chosen from the parameters' device (<see cref="GradientStaging"/>).</param>
    public GradientBuckets(ICollective group, IReadOnlyList<(string Name, Tensor Parameter)> parameters, long bucketCapBytes = BucketAssignment.DefaultBucketCapBytes,
        long firstBucketCapBytes = BucketAssignment.DefaultFirstBucketCapBytes, GradientStaging? staging = null)
        : this(group, parameters, bucketCapBytes, firstBucketCapBytes, staging, transfers: null)
    {
    }

    /// <param name="transfers">The staged path's device copies and waits (null: <see cref="DeviceTransfers"/>); tests count them.</param>
    internal GradientBuckets(ICollective group, IReadOnlyList<(string Name, Tensor Parameter)> parameters, long bucketCapBytes,
        long firstBucketCapBytes, GradientStaging? staging, IBucketTransfers? transfers)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(parameters);
        _parameters = [.. parameters.Select(p => p.Parameter)];
        // The control slot is registered first, so the reverse-order assignment puts it at the very end.
        List<ParameterSpec> specs = [new ParameterSpec(ControlName, [ControlElements]), .. parameters.Select(p => Spec(p.Name, p.Parameter))];
        var buckets = BucketAssignment.Assign(specs, bucketCapBytes, firstBucketCapBytes);
        var control = buckets.SelectMany(b => b.Entries.Select(e => (Bucket: b.Index, Entry: e))).Single(e => e.Entry.ParameterIndex == 0);
        _control = (control.Bucket, control.Entry.Offset);
        var device = _parameters.Length == 0 ? CPU : _parameters[0].device;
        Staging = staging ?? (device.type == TorchSharp.DeviceType.CPU ? GradientStaging.Direct : GradientStaging.Staged);
        if (Staging == GradientStaging.Staged)
        {
            if (_parameters.FirstOrDefault(p => p.device_type != device.type || p.device_index != device.index) is { } other)
            {
                throw new ArgumentException($"staged gradients need every parameter on one device: {device} and {other.device}", nameof(parameters));
            }

            // The device flats leave the host-only votes out; that needs them at the end of their bucket.
            if (_control.Offset + ControlElements != buckets[_control.Bucket].ElementCount)
            {
                throw new InvalidOperationException("the control votes do not end their bucket");
            }

            _staging = new BucketStaging(buckets, [.. buckets.Select(b => b.ElementCount - (b.Index == _control.Bucket ? ControlElements : 0))], device,
                transfers ?? new DeviceTransfers(device));
            _reducer = new BucketReducer(group, buckets, _staging.Buffers, ReduceOp.Average);
            _staging.Start(_reducer);
            _flats = _staging.Flats;
        }
        else
        {
            _reducer = new BucketReducer(group, buckets, ReduceOp.Average);
            _flats = [.. buckets.Select(b => HostFlat(_reducer, b.Index))];
        }

        _slots = new (int, BucketEntry, Tensor)[buckets.Count][];
        for (var b = 0; b < buckets.Count; b++)
        {
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

        WorldSize = group.WorldSize;
    }

    /// <summary>How gradients travel to the host buffers (see <see cref="GradientStaging"/>).</summary>
    public GradientStaging Staging { get; }

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

    /// <summary>Bucket <paramref name="bucket"/>'s host buffer, the memory the ring reduces (for tests).</summary>
    internal Memory<float> HostBuffer(int bucket) => _reducer.Buffer(bucket);

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
            _staging?.WaitHandedOver(cancellationToken);
            var waitStarted = Stopwatch.GetTimestamp();
            _reducer.WaitAllAsync(cancellationToken).GetAwaiter().GetResult();
            LastWait = Stopwatch.GetElapsedTime(waitStarted);
            LastExposed = Stopwatch.GetElapsedTime(entered);
            _staging?.Receive();
            LastFinite = AllFinite();
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

            if (_staging is null)
            {
                _reducer.MarkReady(_launched);
            }
            else
            {
                _staging.Send(_launched);
            }

            _launched++;
        }
    }

    /// <summary>Whether every reduced value is finite: the host buffers (direct) or the device flats after the copy back
    /// (staged). One reduction over all buckets and one read, so on a GPU one synchronisation, not one per bucket.</summary>
    private bool AllFinite()
    {
        using var scope = NewDisposeScope();
        return stack([.. _flats.Select(flat => isfinite(flat).all())]).all().item<bool>();
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

        if (_staging is null)
        {
            foreach (var flat in _flats)
            {
                flat.Dispose();
            }
        }
        else
        {
            _staging.Dispose();
        }
    }

    /// <summary>A tensor sharing bucket <paramref name="bucket"/>'s pinned array: what is copied into a view of it lands in
    /// the bucket buffer.</summary>
    private static Tensor HostFlat(BucketReducer reducer, int bucket)
    {
        if (!MemoryMarshal.TryGetArray<float>(reducer.Buffer(bucket), out var segment) || segment.Offset != 0 || segment.Array is null)
        {
            throw new InvalidOperationException($"bucket {bucket}'s buffer is not a whole array");
        }

        return from_array(segment.Array);
    }

    private static ParameterSpec Spec(string name, Tensor parameter) => new(name, parameter.shape, parameter.requires_grad);
}
