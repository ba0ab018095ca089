namespace Plateau.Collective;

/// <summary>
/// One worker's devices for one generation, reducing hierarchically: each device's trainer holds a
/// <see cref="DeviceCollective"/> (an <see cref="ICollective"/> in per-device ranks,
/// rank = worker index × devices + local index), and every operation is a local barrier — the k-th
/// operation of every local device meets the others' k-th — after which the device that arrived last
/// runs it once for all of them on a <see cref="HierarchicalGroup"/>: sum in fixed device order,
/// one ring member per worker (ring rank = worker index, joined by local device 0 on its endpoint),
/// the result copied to every device. Any failure — a local device that fails, leaves, is cancelled or
/// does not arrive within the operation deadline, or the ring — fails every local device with that
/// cause; ring failures are reported in device ranks (ring rank w becomes rank w × devices).
/// </summary>
public sealed class LocalDeviceGroup : IDisposable
{
    private readonly Lock _lock = new();
    private readonly TaskCompletionSource<HierarchicalGroup> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Dictionary<ulong, Operation> _pending = [];
    private readonly ulong[] _started;
    private readonly bool[] _joined;
    private readonly bool[] _left;
    private readonly CancellationTokenSource _failed = new();
    private readonly IReadOnlyList<string>? _addresses;
    private CollectiveException? _failure;
    private CollectiveGroup? _ring;
    private int _members;
    private bool _closed;

    /// <param name="workerIndex">This worker's place in the ring of workers.</param>
    /// <param name="workers">Workers in the ring.</param>
    /// <param name="localDevices">Devices of every worker.</param>
    /// <param name="operationTimeout">How long an operation waits for every local device to arrive.</param>
    /// <param name="addresses">Collective address of every device rank, for failure reports (optional).</param>
    public LocalDeviceGroup(int workerIndex, int workers, int localDevices, TimeSpan operationTimeout, IReadOnlyList<string>? addresses = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(workers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(localDevices);
        ArgumentOutOfRangeException.ThrowIfNegative(workerIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(workerIndex, workers);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(operationTimeout, TimeSpan.Zero);
        WorkerIndex = workerIndex;
        Workers = workers;
        LocalDevices = localDevices;
        OperationTimeout = operationTimeout;
        _addresses = addresses;
        _started = new ulong[localDevices];
        _joined = new bool[localDevices];
        _left = new bool[localDevices];
    }

    public int WorkerIndex { get; }

    public int Workers { get; }

    public int LocalDevices { get; }

    public TimeSpan OperationTimeout { get; }

    /// <summary>Device ranks over all workers.</summary>
    public int WorldSize => Workers * LocalDevices;

    /// <summary>The failure that broke this group, or null.</summary>
    public CollectiveException? Failure => _failure;

    /// <summary>Device rank of local device <paramref name="localIndex"/>.</summary>
    public int RankOf(int localIndex) => WorkerIndex * LocalDevices + localIndex;

    /// <summary>
    /// Joins local device <paramref name="localIndex"/>. Device 0 joins the ring of workers with
    /// <paramref name="joinRing"/> (required for it, ignored for the others) and checks every worker drives
    /// as many devices; the others wait for that, at most <paramref name="ringWait"/>.
    /// </summary>
    public async Task<DeviceCollective> JoinAsync(int localIndex, Func<CancellationToken, Task<CollectiveGroup>>? joinRing, TimeSpan ringWait, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(localIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(localIndex, LocalDevices);
        if (localIndex == 0)
        {
            ArgumentNullException.ThrowIfNull(joinRing);
        }
        lock (_lock)
        {
            if (_joined[localIndex])
            {
                throw new InvalidOperationException($"local device {localIndex} already joined this group");
            }
            ThrowIfFailed();
            if (_closed)
            {
                throw new CollectiveException($"local device {localIndex} (rank {RankOf(localIndex)}) joined after the worker's other devices had left", RankOf(localIndex), AddressOf(RankOf(localIndex)));
            }
            _joined[localIndex] = true;
            _members++;
        }
        var device = new DeviceCollective(this, localIndex);
        try
        {
            if (localIndex == 0)
            {
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _failed.Token);
                try
                {
                    var ring = await joinRing!(linked.Token);
                    lock (_lock)
                    {
                        _ring = ring;
                    }
                    if (ring.Rank != WorkerIndex || ring.WorldSize != Workers)
                    {
                        throw new InvalidOperationException($"the worker ring has rank {ring.Rank} of {ring.WorldSize}, expected worker {WorkerIndex} of {Workers}");
                    }
                    var hierarchy = await HierarchicalGroup.CreateAsync(ring, LocalDevices, linked.Token);
                    _ready.TrySetResult(hierarchy);
                }
                catch (CollectiveException e)
                {
                    throw Fail(FromRing(e));
                }
            }
            else
            {
                try
                {
                    await _ready.Task.WaitAsync(ringWait, cancellationToken);
                }
                catch (TimeoutException e)
                {
                    throw Fail(new CollectiveException($"local device 0 (rank {RankOf(0)}) did not join the ring of workers within {ringWait.TotalSeconds:0.#} s", RankOf(0), AddressOf(RankOf(0)), e));
                }
            }
            return device;
        }
        catch (Exception e)
        {
            Abandon(localIndex, e);
            await LeaveAsync(localIndex); // the caller never gets the device to leave with
            throw Rethrow() ?? e;
        }
    }

    /// <summary>
    /// Local device <paramref name="localIndex"/> failed, joined or not (<paramref name="cause"/> is why):
    /// every local device's pending and later operations fail with it, and the ring is told this worker left.
    /// A no-op once the group has failed.
    /// </summary>
    public void Abandon(int localIndex, Exception cause)
    {
        ArgumentNullException.ThrowIfNull(cause);
        var rank = RankOf(localIndex);
        Fail(cause as CollectiveException is { } collective && Translated(collective)
            ? collective
            : new CollectiveException($"local device {localIndex} (rank {rank}) failed: {cause.GetType().Name}: {cause.Message}", rank, AddressOf(rank), cause));
    }

    /// <summary>Whether <paramref name="e"/> already speaks in device ranks (it came from this group).</summary>
    private bool Translated(CollectiveException e) => ReferenceEquals(e, _failure) || ReferenceEquals(e.InnerException, _failure);

    /// <summary>One operation of one local device: arrive, let the last arrival run it, wait for the result.</summary>
    internal async Task<byte[][]?> RunAsync(int localIndex, OperationKind kind, int length, int root, Memory<float> buffer, ReadOnlyMemory<byte> block, CancellationToken cancellationToken)
    {
        Operation operation;
        ulong sequence;
        var last = false;
        lock (_lock)
        {
            ThrowIfFailed();
            if (!_joined[localIndex] || _left[localIndex])
            {
                throw new InvalidOperationException($"local device {localIndex} is not a member of this group");
            }
            sequence = ++_started[localIndex];
            var gone = Enumerable.Range(0, LocalDevices).FirstOrDefault(d => _left[d] && _started[d] < sequence, -1);
            if (gone >= 0)
            {
                throw Fail(new CollectiveException($"local device {gone} (rank {RankOf(gone)}) left the group after operation {_started[gone]}; local device {localIndex} started {kind} #{sequence}", RankOf(gone), AddressOf(RankOf(gone))));
            }
            if (!_pending.TryGetValue(sequence, out operation!))
            {
                operation = new Operation(sequence, kind, length, root, LocalDevices);
                _pending[sequence] = operation;
                operation.Deadline = new Timer(static state => ((LocalDeviceGroup)((object[])state!)[0]).Overdue((Operation)((object[])state!)[1]), new object[] { this, operation }, OperationTimeout, Timeout.InfiniteTimeSpan);
            }
            else if (operation.Kind != kind || operation.Length != length || operation.Root != root) // all-gather blocks may differ: length -1
            {
                throw Fail(new CollectiveException(
                    $"local device {localIndex} (rank {RankOf(localIndex)}) runs {kind} #{sequence} on {length} elements/bytes (root {root}) while another local device runs {operation.Kind} on {operation.Length} (root {operation.Root}); every rank must call the same collectives in the same order",
                    RankOf(localIndex), AddressOf(RankOf(localIndex))));
            }
            operation.Buffers[localIndex] = buffer;
            operation.Blocks[localIndex] = block;
            operation.Present[localIndex] = true;
            if (++operation.Arrived == LocalDevices)
            {
                last = true;
                _pending.Remove(sequence);
                operation.Deadline?.Dispose();
            }
        }
        if (last)
        {
            _ = ExecuteAsync(operation);
        }
        try
        {
            return await operation.Done.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested && _failure is null)
        {
            var rank = RankOf(localIndex);
            throw Fail(new CollectiveException($"{kind} #{sequence} was cancelled on local device {localIndex} (rank {rank}) mid-operation", rank, AddressOf(rank), e));
        }
        catch (CollectiveException)
        {
            throw Rethrow()!;
        }
    }

    /// <summary>Local device <paramref name="localIndex"/> leaves in good order; the last one out closes the ring.</summary>
    internal async ValueTask LeaveAsync(int localIndex)
    {
        CollectiveGroup? ring = null;
        lock (_lock)
        {
            if (!_joined[localIndex] || _left[localIndex])
            {
                return;
            }
            _left[localIndex] = true;
            var waiting = _pending.Values.FirstOrDefault(o => o.Sequence > _started[localIndex]);
            if (waiting is not null && _failure is null)
            {
                var rank = RankOf(localIndex);
                Fail(new CollectiveException($"local device {localIndex} (rank {rank}) left the group after operation {_started[localIndex]}; the others wait in {waiting.Kind} #{waiting.Sequence}", rank, AddressOf(rank)));
            }
            if (--_members == 0)
            {
                _closed = true;
                ring = _ring;
                _ring = null;
            }
        }
        if (ring is not null)
        {
            await ring.DisposeAsync();
        }
    }

    private async Task ExecuteAsync(Operation operation)
    {
        await Task.Yield(); // the arrival that completes the barrier goes on waiting like the others
        try
        {
            var hierarchy = await _ready.Task;
            var token = _failed.Token;
            byte[][]? result = null;
            switch (operation.Kind)
            {
                case OperationKind.AllReduce:
                    await hierarchy.AllReduceAsync(operation.Buffers, (ReduceOp)operation.Root, token);
                    break;
                case OperationKind.Broadcast:
                    await hierarchy.BroadcastAsync(operation.Buffers, operation.Root / LocalDevices, operation.Root % LocalDevices, token);
                    break;
                case OperationKind.AllGather:
                    result = await hierarchy.AllGatherAsync(operation.Blocks, token);
                    break;
            }
            operation.Done.TrySetResult(result);
        }
        catch (CollectiveException e)
        {
            operation.Done.TrySetException(Fail(FromRing(e)));
        }
        catch (OperationCanceledException) when (_failure is not null)
        {
            operation.Done.TrySetException(_failure);
        }
        catch (Exception e)
        {
            var rank = RankOf(0);
            operation.Done.TrySetException(Fail(new CollectiveException($"{operation.Kind} #{operation.Sequence} failed on worker {WorkerIndex}: {e.GetType().Name}: {e.Message}", rank, AddressOf(rank), e)));
        }
    }

    /// <summary>The ring speaks in worker ranks: name the failed worker by its device 0's rank.</summary>
    private CollectiveException FromRing(CollectiveException e)
    {
        if (Translated(e))
        {
            return _failure!;
        }
        var rank = e.FailedRank >= 0 ? e.FailedRank * LocalDevices : -1;
        return new CollectiveException($"{e.Message} (ring of workers: ring rank {e.FailedRank} is worker {e.FailedRank}, device ranks {rank}–{rank + LocalDevices - 1})", rank, e.FailedAddress ?? AddressOf(rank), e);
    }

    private void Overdue(Operation operation)
    {
        lock (_lock)
        {
            if (!_pending.Remove(operation.Sequence) || _failure is not null)
            {
                return;
            }
        }
        var missing = Enumerable.Range(0, LocalDevices).Where(d => !operation.Present[d]).ToArray();
        var first = RankOf(missing[0]);
        Fail(new CollectiveException(
            $"local device(s) {string.Join(", ", missing)} (rank {string.Join(", ", missing.Select(RankOf))}) did not reach {operation.Kind} #{operation.Sequence} within {OperationTimeout.TotalSeconds:0.#} s of the first local device",
            first, AddressOf(first)));
    }

    /// <summary>Breaks the group (first verdict wins) and returns the verdict to throw.</summary>
    private CollectiveException Fail(CollectiveException failure)
    {
        Operation[] pending;
        lock (_lock)
        {
            if (_failure is not null)
            {
                return _failure;
            }
            _failure = failure;
            pending = [.. _pending.Values];
            _pending.Clear();
        }
        foreach (var operation in pending)
        {
            operation.Deadline?.Dispose();
            operation.Done.TrySetException(failure);
        }
        _ready.TrySetException(failure);
        _ready.Task.Exception?.Handle(_ => true); // observed: a device that never joins must not leave it unobserved
        try
        {
            _failed.Cancel(); // an operation on the ring aborts it, naming this worker
        }
        catch (ObjectDisposedException)
        {
            // disposed: nothing runs any more
        }
        return failure;
    }

    /// <summary>Releases the cancellation source; call once no device uses the group (the ring closes with the last device out).</summary>
    public void Dispose() => _failed.Dispose();

    private void ThrowIfFailed()
    {
        if (Rethrow() is { } failure)
        {
            throw failure;
        }
    }

    /// <summary>A fresh exception per throw site carrying the group's verdict (null while healthy).</summary>
    private CollectiveException? Rethrow() =>
        _failure is { } failure ? new CollectiveException(failure.Message, failure.FailedRank, failure.FailedAddress, failure) : null;

    private string? AddressOf(int rank) => _addresses is { } list && rank >= 0 && rank < list.Count ? list[rank] : null;

    internal enum OperationKind
    {
        AllReduce,
        Broadcast,
        AllGather,
    }

    private sealed class Operation(ulong sequence, OperationKind kind, int length, int root, int devices)
    {
        public ulong Sequence { get; } = sequence;

        public OperationKind Kind { get; } = kind;

        public int Length { get; } = length;

        /// <summary>Broadcast: the root rank; all-reduce: the <see cref="ReduceOp"/>.</summary>
        public int Root { get; } = root;

        public Memory<float>[] Buffers { get; } = new Memory<float>[devices];

        public ReadOnlyMemory<byte>[] Blocks { get; } = new ReadOnlyMemory<byte>[devices];

        public bool[] Present { get; } = new bool[devices];

        public int Arrived { get; set; }

        public Timer? Deadline { get; set; }

        public TaskCompletionSource<byte[][]?> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
