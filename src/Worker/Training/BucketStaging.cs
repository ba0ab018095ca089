using System.Collections.Concurrent;
using Plateau.Collective.Buckets;
using TorchSharp;
using static TorchSharp.torch;

namespace Plateau.Worker.Training;

/// <summary>
/// The staged path of <see cref="GradientBuckets"/> (<see cref="GradientStaging.Staged"/>). Per bucket: a flat float32
/// tensor on the gradients' device, into which the gradients' slots are views, and a host tensor of the bucket's full
/// length — page-locked on CUDA, pageable on the CPU (a CPU-only libtorch cannot page-lock) — whose memory is the
/// <see cref="BucketReducer"/>'s buffer (<see cref="TensorMemory"/>). The control votes live only on the host, in the
/// last two elements of the last bucket, so the device flat is the bucket without them and the copies never touch them.
/// </summary>
/// <remarks>
/// Where the wait happens: <see cref="Send"/> runs on the packing thread (during an overlapped backward, the autograd
/// engine's thread for the device) and only queues the bucket's device→host copy. Waiting for the copy and handing the
/// bucket to the reducer happen on this object's own thread, so backward goes on queueing kernels meanwhile. The wait is
/// a device-wide synchronisation (TorchSharp 0.107 has no stream or event API), one per bucket, started as soon as the
/// bucket is queued: it waits for the work queued before it — backward so far, then the copy — not for what backward
/// queues later. A blocked thread here costs nothing on the device; a wait on the autograd thread would stop it queueing
/// work until the device had drained.
/// </remarks>
internal sealed class BucketStaging : IDisposable
{
    private readonly Tensor[] _host;
    private readonly Tensor[] _hostGradients;
    private readonly Tensor[] _flats;
    private readonly bool[] _copied;
    private readonly IBucketTransfers _transfers;
    private readonly BlockingCollection<int> _sent = new();
    private readonly SemaphoreSlim _handedOver = new(0);
    private readonly Thread _thread;
    private BucketReducer? _reducer;
    private volatile Exception? _failure;

    /// <param name="gradientElements">Per bucket, its elements less the control votes (which end the last bucket).</param>
    public BucketStaging(IReadOnlyList<Bucket> buckets, IReadOnlyList<long> gradientElements, Device device, IBucketTransfers transfers)
    {
        _transfers = transfers;
        _host = new Tensor[buckets.Count];
        _hostGradients = new Tensor[buckets.Count];
        _flats = new Tensor[buckets.Count];
        _copied = new bool[buckets.Count];
        for (var b = 0; b < buckets.Count; b++)
        {
            _host[b] = HostBuffer(buckets[b].ElementCount, device);
            _hostGradients[b] = _host[b].narrow(0, 0, gradientElements[b]);
            _flats[b] = zeros(gradientElements[b], ScalarType.Float32, device);
            _copied[b] = gradientElements[b] > 0;
        }

        Buffers = [.. _host.Select(h => new TensorMemory(h).Memory)];
        _thread = new Thread(HandOver) { IsBackground = true, Name = "gradient staging" };
    }

    /// <summary>The host buffers, for the <see cref="BucketReducer"/>.</summary>
    public IReadOnlyList<Memory<float>> Buffers { get; }

    /// <summary>The device flats, one per bucket (empty for a bucket of control votes only).</summary>
    public IReadOnlyList<Tensor> Flats => _flats;

    /// <summary>Starts handing sent buckets to <paramref name="reducer"/>, whose buffers are <see cref="Buffers"/>.</summary>
    public void Start(BucketReducer reducer)
    {
        _reducer = reducer;
        _thread.Start();
    }

    /// <summary>Queues bucket <paramref name="bucket"/>'s one device→host copy (it is fully packed) and has the staging
    /// thread wait for it and mark the bucket ready. Returns at once.</summary>
    public void Send(int bucket)
    {
        if (_copied[bucket])
        {
            _transfers.ToHost(bucket, _hostGradients[bucket], _flats[bucket]);
        }

        _sent.Add(bucket);
    }

    /// <summary>Waits until every bucket of this step is marked ready (each was <see cref="Send"/>t once).</summary>
    public void WaitHandedOver(CancellationToken cancellationToken)
    {
        for (var b = 0; b < _host.Length; b++)
        {
            _handedOver.Wait(cancellationToken);
        }

        if (_failure is { } failure)
        {
            throw new InvalidOperationException("staging a gradient bucket to the host failed", failure);
        }
    }

    /// <summary>Queues each bucket's one host→device copy of the reduced values (the device orders the unpacking after it).</summary>
    public void Receive()
    {
        for (var b = 0; b < _host.Length; b++)
        {
            if (_copied[b])
            {
                _transfers.ToDevice(b, _flats[b], _hostGradients[b]);
            }
        }
    }

    public void Dispose()
    {
        _sent.CompleteAdding();
        if (_thread.IsAlive)
        {
            _thread.Join();
        }

        foreach (var tensor in _hostGradients.Concat(_host).Concat(_flats))
        {
            tensor.Dispose();
        }

        _sent.Dispose();
        _handedOver.Dispose();
    }

    private static Tensor HostBuffer(long elements, Device device)
    {
        var pageable = empty(elements, ScalarType.Float32);
        if (device.type != DeviceType.CUDA)
        {
            return pageable;
        }

        // Page-locked, so the device copies into it asynchronously (and with DMA) rather than through a bounce buffer.
        using (pageable)
        {
            return pageable.pin_memory();
        }
    }

    private void HandOver()
    {
        foreach (var bucket in _sent.GetConsumingEnumerable())
        {
            try
            {
                // After a failure the step is lost; the remaining buckets are only counted so the trainer is not left waiting.
                if (_failure is null)
                {
                    if (_copied[bucket])
                    {
                        _transfers.Synchronize(bucket);
                    }

                    _reducer!.MarkReady(bucket);
                }
            }
#pragma warning disable CA1031 // this thread must not die with an exception: the trainer rethrows it from WaitHandedOver
            catch (Exception ex)
#pragma warning restore CA1031
            {
                _failure = ex;
            }
            finally
            {
                _handedOver.Release();
            }
        }
    }
}
