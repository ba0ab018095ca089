using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Plateau.Collective.Ring;
using Plateau.Collective.Transport;

namespace Plateau.Collective;

public sealed partial class CollectiveGroup
{
    /// <summary>Largest block one rank may contribute to an all-gather (it travels as one message).</summary>
    public const int MaxAllGatherBlockBytes = 16 << 20;

    private PiecePlacement? _placement;

    /// <summary>Where the running all-reduce's all-gather pieces may be received in place (data socket readers); null when none runs or they cannot be.</summary>
    internal PiecePlacement? Placement => Volatile.Read(ref _placement);

    private long _placedPieces;

    /// <summary>All-gather pieces received straight into the callers' buffers so far (tests).</summary>
    internal long PlacedPieceCount => Interlocked.Read(ref _placedPieces);

    internal void CountPlacedPiece() => Interlocked.Increment(ref _placedPieces);

    /// <summary>
    /// In-place all-reduce of <paramref name="buffer"/> across the ring: reduce-scatter then all-gather,
    /// each segment cut into <see cref="RingOptions.ChunkBytes"/> pieces that pipeline send, receive and
    /// add. Each segment's final value is computed once, by its owner, and copied to the others, so all
    /// ranks end with bit-identical buffers. All ranks must pass the same length.
    /// </summary>
    public Task AllReduceAsync(Memory<float> buffer, ReduceOp op = ReduceOp.Sum, CancellationToken cancellationToken = default)
    {
        if (!Enum.IsDefined(op))
        {
            throw new ArgumentOutOfRangeException(nameof(op), op, "ReduceOp must be Sum or Average.");
        }
        return RunAsync(CollectiveOpKind.AllReduce, (long)buffer.Length * sizeof(float), (sequence, token) => AllReduceCoreAsync(buffer, op, sequence, token), cancellationToken);
    }

    /// <summary>Copies <paramref name="root"/>'s buffer into every rank's buffer (exact fp32, pipelined along the ring).</summary>
    public Task BroadcastAsync(Memory<float> buffer, int root, CancellationToken cancellationToken = default)
    {
        if (root < 0 || root >= WorldSize)
        {
            throw new ArgumentOutOfRangeException(nameof(root), root, $"root must be a rank in [0, {WorldSize}).");
        }
        return RunAsync(CollectiveOpKind.Broadcast, (long)buffer.Length * sizeof(float), (sequence, token) => BroadcastCoreAsync(buffer, root, sequence, token), cancellationToken);
    }

    /// <summary>Gathers every rank's small block (lengths may differ); result[r] is rank r's block.</summary>
    public async Task<byte[][]> AllGatherAsync(ReadOnlyMemory<byte> block, CancellationToken cancellationToken = default)
    {
        if (block.Length > MaxAllGatherBlockBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(block), block.Length, $"all-gather blocks are for small data (≤ {MaxAllGatherBlockBytes} bytes); use AllReduce/Broadcast for tensors.");
        }
        byte[][] result = [];
        await RunAsync(CollectiveOpKind.AllGather, block.Length, async (sequence, token) => result = await AllGatherCoreAsync(block, CollectiveOpKind.AllGather, sequence, token), cancellationToken);
        return result;
    }

    /// <summary>Gathers every rank's small float block (metrics); result[r] is rank r's values.</summary>
    public async Task<float[][]> AllGatherAsync(ReadOnlyMemory<float> block, CancellationToken cancellationToken = default)
    {
        var bytes = MemoryMarshal.AsBytes(block.Span).ToArray();
        var gathered = await AllGatherAsync(bytes, cancellationToken);
        return [.. gathered.Select(b => MemoryMarshal.Cast<byte, float>(b).ToArray())];
    }

    /// <summary>Returns once every rank has entered the barrier.</summary>
    public Task BarrierAsync(CancellationToken cancellationToken = default) =>
        RunAsync(CollectiveOpKind.Barrier, 0, (sequence, token) => AllGatherCoreAsync(ReadOnlyMemory<byte>.Empty, CollectiveOpKind.Barrier, sequence, token), cancellationToken);

    private async Task RunAsync(CollectiveOpKind kind, long bytes, Func<ulong, CancellationToken, Task> body, CancellationToken cancellationToken)
    {
        try
        {
            await RunCoreAsync(kind, bytes, body, cancellationToken);
        }
        finally
        {
            // Pieces are processed inline on the transport's receiver threads (socket reader, gRPC
            // response loop); the caller's continuation must never run on one of them.
            await Task.Yield();
        }
    }

    private async Task RunCoreAsync(CollectiveOpKind kind, long bytes, Func<ulong, CancellationToken, Task> body, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ThrowIfFailed(Volatile.Read(ref _operationSequence) + 1);
        await _operationLock.WaitAsync(cancellationToken);
        try
        {
            var sequence = Volatile.Read(ref _operationSequence) + 1;
            ThrowIfFailed(sequence);
            Volatile.Write(ref _operationSequence, sequence);
            using var span = CollectiveTracing.Sampled(sequence, _options.TraceEveryNthOperation) ? StartSpan(kind, sequence, bytes) : null;
            try
            {
                await RunSequencedAsync(kind, sequence, body, cancellationToken);
            }
            catch (Exception ex)
            {
                span?.SetStatus(ActivityStatusCode.Error, ex.Message);
                throw;
            }
        }
        finally
        {
            _operationLock.Release();
        }
    }

    private Activity? StartSpan(CollectiveOpKind kind, ulong sequence, long bytes) =>
        CollectiveTracing.Source.StartActivity(CollectiveTracing.SpanName)?
            .SetTag("plateau.collective.op", kind.ToString())
            .SetTag("plateau.collective.sequence", (long)sequence)
            .SetTag("plateau.collective.bytes", bytes)
            .SetTag("plateau.collective.compression", _options.Compression.ToString())
            .SetTag("plateau.job_id", JobId)
            .SetTag("plateau.generation", Generation)
            .SetTag("plateau.rank", Rank)
            .SetTag("plateau.world_size", WorldSize);

    /// <summary>One operation under the lock, its sequence number taken.</summary>
    private async Task RunSequencedAsync(CollectiveOpKind kind, ulong sequence, Func<ulong, CancellationToken, Task> body, CancellationToken cancellationToken)
    {
        if (WorldSize == 1)
        {
            await body(sequence, cancellationToken);
            return;
        }
        using var deadline = new CancellationTokenSource(_options.OperationTimeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token, _failed.Token);
        _pendingReads = 0;
        _pendingWrites = 0;
        try
        {
            await body(sequence, linked.Token).WaitAsync(linked.Token);
            Volatile.Write(ref _completedSequence, sequence);
        }
        catch (CollectiveException ex)
        {
            Fail(ex, ex.Message);
            throw Rethrow();
        }
        catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
        {
            if (_failure is null)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    Fail(new CollectiveException($"job {JobId} generation {Generation}: {kind} #{sequence} was cancelled on rank {Rank} mid-operation", Rank, AddressOf(Rank), ex),
                        $"rank {Rank} cancelled {kind} #{sequence}");
                }
                else if (deadline.IsCancellationRequested)
                {
                    var (blamed, what) = Volatile.Read(ref _pendingReads) > 0 || Volatile.Read(ref _pendingWrites) == 0
                        ? (LeftRank, $"no data from rank {LeftRank}")
                        : (RightRank, $"rank {RightRank} accepted no data");
                    var reason = $"{kind} #{sequence} exceeded its {_options.OperationTimeout.TotalSeconds:0.#} s deadline on rank {Rank}: {what}";
                    Fail(new CollectiveException($"job {JobId} generation {Generation}: {reason}", blamed, AddressOf(blamed), ex), reason);
                }
                else
                {
                    Fail(new CollectiveException($"job {JobId} generation {Generation}: {kind} #{sequence} failed on rank {Rank}: {ex.Message}", LeftRank, AddressOf(LeftRank), ex), ex.Message);
                }
            }
            throw Rethrow();
        }
    }

    /// <summary>Throws the group's verdict; a neighbour's goodbye becomes one once an operation it did not complete would start.</summary>
    private void ThrowIfFailed(ulong nextSequence)
    {
        // Runs before every operation: enumerating the dictionary takes no lock (its Values property takes them all and copies).
        if (_failure is null && _departures.Select(d => d.Value).Where(d => !d.Covers(nextSequence)).MinBy(d => d.Rank) is { } left)
        {
            Fail(left.Verdict, left.Verdict.Message);
        }
        if (_failure is not null)
        {
            throw Rethrow();
        }
    }

    /// <summary>A fresh exception per throw site carrying the group's verdict.</summary>
    private CollectiveException Rethrow()
    {
        var failure = _failure!;
        return new CollectiveException(failure.Message, failure.FailedRank, failure.FailedAddress, failure);
    }

    private async Task AllReduceCoreAsync(Memory<float> buffer, ReduceOp op, ulong sequence, CancellationToken token)
    {
        if (WorldSize == 1)
        {
            return; // sum or average over one rank is the buffer itself
        }
        var layout = new RingLayout(buffer.Length, WorldSize, _options.ChunkBytes / sizeof(float));
        var streams = _upstream.Length;
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(token);
        var tasks = new Task[2 * streams];
        Volatile.Write(ref _placement, PiecePlacement.For(sequence, buffer, layout, Rank, WorldSize, streams, _options.Compression));
        try
        {
            for (var s = 0; s < streams; s++)
            {
                // Piece p of step g can be sent once piece p of step g-1 has been received and reduced; a
                // stream carries the pieces p ≡ s (mod streams), so each stream is an independent pipeline.
                var ready = new PieceSignal();
                tasks[2 * s] = AllReduceSendAsync(buffer, layout, s, ready, sequence, abort.Token);
                tasks[2 * s + 1] = AllReduceReceiveAsync(buffer, layout, s, ready, op, sequence, abort.Token);
            }
            await WhenAllFailFast(tasks, abort);
        }
        finally
        {
            Volatile.Write(ref _placement, null);
        }
    }

    private async Task AllReduceSendAsync(Memory<float> buffer, RingLayout layout, int stream, PieceSignal ready, ulong sequence, CancellationToken token)
    {
        await Task.Yield();
        var link = _downstream[stream]!;
        for (var step = 0; step < layout.Steps; step++)
        {
            var (offset, length) = layout.Segment(layout.SendSegment(Rank, step));
            var pieces = layout.Pieces(length);
            for (var piece = stream; piece < pieces; piece += _upstream.Length)
            {
                if (step > 0)
                {
                    await ready.WaitAsync(token);
                }
                var (start, count) = layout.Piece(offset, length, piece);
                Interlocked.Increment(ref _pendingWrites);
                await link.WriteAsync(WireFrame.ForFloats(sequence, CollectiveOpKind.AllReduce, step, piece, (ulong)buffer.Length, buffer.Slice(start, count), _options.Compression), token);
                Interlocked.Decrement(ref _pendingWrites);
            }
        }
    }

    private async Task AllReduceReceiveAsync(Memory<float> buffer, RingLayout layout, int stream, PieceSignal ready, ReduceOp op, ulong sequence, CancellationToken token)
    {
        await Task.Yield();
        var format = _options.Compression;
        var lastReduceStep = WorldSize - 2;
        for (var step = 0; step < layout.Steps; step++)
        {
            var (offset, length) = layout.Segment(layout.ReceiveSegment(Rank, step));
            var pieces = layout.Pieces(length);
            for (var piece = stream; piece < pieces; piece += _upstream.Length)
            {
                var (start, count) = layout.Piece(offset, length, piece);
                var frame = await ReceiveAsync(stream, token);
                try
                {
                    Expect(frame, CollectiveOpKind.AllReduce, sequence, step, piece, (ulong)buffer.Length, count * ElementCodec.BytesPerElement(format));
                    var destination = buffer.Span.Slice(start, count);
                    if (step <= lastReduceStep)
                    {
                        ElementCodec.DecodeAdd(frame.Data, destination, format);
                        if (step == lastReduceStep)
                        {
                            // This rank owns the segment now: finish it once, here, for everyone.
                            if (op == ReduceOp.Average)
                            {
                                for (var i = 0; i < destination.Length; i++)
                                {
                                    destination[i] /= WorldSize;
                                }
                            }
                            ElementCodec.RoundInPlace(destination, format);
                        }
                    }
                    else if (!frame.IsPlaced)
                    {
                        ElementCodec.DecodeCopy(frame.Data, destination, format);
                    }
                }
                finally
                {
                    frame.Release();
                }
                if (step < layout.Steps - 1)
                {
                    ready.Release();
                }
            }
        }
    }

    private async Task BroadcastCoreAsync(Memory<float> buffer, int root, ulong sequence, CancellationToken token)
    {
        if (WorldSize == 1)
        {
            return;
        }
        var layout = new RingLayout(buffer.Length, 1, _options.ChunkBytes / sizeof(float));
        var pieces = layout.Pieces(buffer.Length);
        var streams = _upstream.Length;
        var forward = RightRank != root;
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(token);
        token = abort.Token;
        var tasks = new Task[streams];
        for (var s = 0; s < streams; s++)
        {
            var stream = s;
            tasks[s] = Task.Run(async () =>
            {
                for (var piece = stream; piece < pieces; piece += streams)
                {
                    var (start, count) = layout.Piece(0, buffer.Length, piece);
                    if (Rank != root)
                    {
                        var frame = await ReceiveAsync(stream, token);
                        try
                        {
                            Expect(frame, CollectiveOpKind.Broadcast, sequence, root, piece, (ulong)buffer.Length, count * sizeof(float));
                            ElementCodec.DecodeCopy(frame.Data, buffer.Span.Slice(start, count), WireCompression.None);
                        }
                        finally
                        {
                            frame.Release();
                        }
                    }
                    if (Rank == root || forward)
                    {
                        Interlocked.Increment(ref _pendingWrites);
                        await _downstream[stream]!.WriteAsync(WireFrame.ForFloats(sequence, CollectiveOpKind.Broadcast, root, piece, (ulong)buffer.Length, buffer.Slice(start, count), WireCompression.None), token);
                        Interlocked.Decrement(ref _pendingWrites);
                    }
                }
            }, token);
        }
        await WhenAllFailFast(tasks, abort);
    }

    private async Task<byte[][]> AllGatherCoreAsync(ReadOnlyMemory<byte> block, CollectiveOpKind kind, ulong sequence, CancellationToken token)
    {
        var blocks = new byte[WorldSize][];
        blocks[Rank] = block.ToArray();
        for (var step = 0; step < WorldSize - 1; step++)
        {
            // Step t: pass on the block received at step t-1 (own block first); receive the next.
            var send = (Rank - step + WorldSize) % WorldSize;
            var receive = (Rank - step - 1 + 2 * WorldSize) % WorldSize;
            Interlocked.Increment(ref _pendingWrites);
            await _downstream[0]!.WriteAsync(WireFrame.ForBytes(sequence, kind, step, send, (ulong)blocks[send].Length, blocks[send]), token);
            Interlocked.Decrement(ref _pendingWrites);
            var frame = await ReceiveAsync(0, token);
            try
            {
                Expect(frame, kind, sequence, step, receive, frame.Total, checked((int)frame.Total));
                blocks[receive] = frame.Data.ToArray();
            }
            finally
            {
                frame.Release();
            }
        }
        return blocks;
    }

    /// <summary>Like WhenAll, but the first failure cancels the sibling loops (a sender blocked on a piece that will never be ready) and surfaces at once.</summary>
    private static async Task WhenAllFailFast(Task[] tasks, CancellationTokenSource abort)
    {
        var pending = new List<Task>(tasks);
        while (pending.Count > 0)
        {
            var done = await Task.WhenAny(pending);
            pending.Remove(done);
            if (!done.IsCompletedSuccessfully)
            {
                await abort.CancelAsync();
                var root = tasks.FirstOrDefault(t => t.IsFaulted && t.Exception!.InnerException is CollectiveException) ?? done;
                await root;
            }
        }
    }

    private async Task<WireFrame> ReceiveAsync(int stream, CancellationToken token)
    {
        var link = _upstream[stream];
        Interlocked.Increment(ref _pendingReads);
        try
        {
            return await link.Frames.ReadAsync(token);
        }
        catch (ChannelClosedException ex)
        {
            // The data ended (the socket closed, or the stream): why is the control stream's to say.
            throw _failure is not null ? Rethrow() : await LinkLostAfterControlAsync(LeftRank, $"stream {stream} from rank {LeftRank} ({AddressOf(LeftRank)}) ended", ex, link.ControlStreamEnded);
        }
        finally
        {
            Interlocked.Decrement(ref _pendingReads);
        }
    }

    private void Expect(WireFrame frame, CollectiveOpKind kind, ulong sequence, int step, int piece, ulong total, int bytes)
    {
        if (frame.Op != sequence || frame.Kind != (uint)kind)
        {
            throw Mismatch($"rank {LeftRank} sent data of {(CollectiveOpKind)frame.Kind} #{frame.Op} while this rank runs {kind} #{sequence}; every rank must call the same collectives in the same order");
        }
        if (frame.Total != total)
        {
            throw Mismatch($"rank {LeftRank} runs {kind} #{sequence} on {frame.Total} elements, this rank on {total}; buffers must have equal lengths on every rank");
        }
        if (frame.Step != (uint)step || frame.Piece != (uint)piece || frame.DataLength != bytes)
        {
            throw Mismatch($"rank {LeftRank} sent step {frame.Step} piece {frame.Piece} ({frame.DataLength} B) of {kind} #{sequence}, expected step {step} piece {piece} ({bytes} B); check that every rank uses the same ChunkBytes, StreamsPerPeer and Compression");
        }
    }

    private CollectiveException Mismatch(string reason) =>
        new($"job {JobId} generation {Generation}: {reason}", LeftRank, AddressOf(LeftRank));
}
