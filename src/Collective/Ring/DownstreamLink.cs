using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Plateau.Collective.Transport;
using Plateau.Collective.Transport.Sockets;
using Plateau.Protos.Collective.V1;

namespace Plateau.Collective.Ring;

/// <summary>
/// One accepted Exchange call from the ring successor (right neighbour): this rank streams its data
/// to the successor on the response stream; the gRPC handler itself stays in <see cref="PumpAsync"/>
/// reading control frames (aborts) from the request stream for the call's lifetime. With a data
/// socket (<see cref="DataTransport.Socket"/>) chunks go on the socket instead, straight from the
/// caller's buffer, and the gRPC stream carries only control frames.
/// </summary>
internal sealed class DownstreamLink : IDisposable
{
    private readonly CollectiveGroup _group;
    private readonly IAsyncStreamReader<WireFrame> _requests;
    private readonly IServerStreamWriter<WireFrame> _responses;
    private readonly ServerCallContext _context;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly SemaphoreSlim _socketLock = new(1, 1);
    private readonly Socket? _socket;
    private readonly byte[] _header = new byte[DataFrameHeader.Bytes];
    private readonly SharedSlots? _slots;
    private readonly SemaphoreSlim? _freeSlotCount;
    private readonly ConcurrentQueue<int> _freeSlots = new();
    private readonly TaskCompletionSource _pumpEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public DownstreamLink(CollectiveGroup group, int streamIndex, IAsyncStreamReader<WireFrame> requests, IServerStreamWriter<WireFrame> responses, ServerCallContext context, string remote, Socket? socket, SharedSlots? slots)
    {
        _socket = socket;
        _slots = socket is null ? null : slots;
        if (_slots is not null)
        {
            for (var i = 0; i < _slots.SlotCount; i++)
            {
                _freeSlots.Enqueue(i);
            }
            _freeSlotCount = new SemaphoreSlim(_slots.SlotCount, _slots.SlotCount);
            new Thread(ReturnedSlotsLoop) { IsBackground = true, Name = $"plateau-collective-slots-{streamIndex}" }.Start();
        }
        _group = group;
        StreamIndex = streamIndex;
        _requests = requests;
        _responses = responses;
        _context = context;
        Remote = remote;
    }

    public int StreamIndex { get; }

    public string Remote { get; }

    public async Task PumpAsync(CancellationToken stop)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, _context.CancellationToken);
        var token = linked.Token;
        try
        {
            while (await _requests.MoveNext(token))
            {
                var frame = _requests.Current;
                frame.Release(); // data never flows upstream; only control frames are expected
                if (frame.Control?.Abort is { } abort)
                {
                    _group.OnAbortFrame(abort);
                }
            }
            _group.LinkEnded(_group.RightRank, $"rank {_group.RightRank} ({_group.AddressOf(_group.RightRank)}) closed its stream");
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or RpcException or InvalidOperationException)
        {
            if (!stop.IsCancellationRequested)
            {
                _group.LinkLost(_group.RightRank, $"connection from rank {_group.RightRank} ({_group.AddressOf(_group.RightRank)}) lost: {ex.Message}", ex);
            }
        }
        finally
        {
            // The data socket lives as long as its control stream. Close it without waiting for a
            // send in flight (the group is failing or leaving; the peer sees the end either way).
            _socket?.Dispose();
            _pumpEnded.TrySetResult();
        }
    }

    /// <summary>Sends one data frame. Not cancellable mid-write (a reset stream would make the peer blame this rank); callers stop issuing writes once their token fires.</summary>
    public async Task WriteAsync(WireFrame frame, CancellationToken cancellationToken)
    {
        if (_socket is not null)
        {
            await WriteToSocketAsync(_socket, frame, cancellationToken);
            return;
        }
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            await _responses.WriteAsync(frame, CancellationToken.None);
        }
        catch (Exception ex) when (IsSendFailure(ex, cancellationToken))
        {
            await FailedSendAsync(frame, "", ex);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Whether <paramref name="ex"/>, thrown by a send, means the link to the right neighbour failed. A
    /// cancellation counts unless it is this operation's own token (a verdict already taken, the deadline,
    /// the caller): the transport reports an aborted stream or connection as one too (Kestrel's
    /// ConnectionAbortedException is an OperationCanceledException), and left to travel up as a bare
    /// cancellation it would become a generic verdict that names the wrong rank.
    /// </summary>
    private static bool IsSendFailure(Exception ex, CancellationToken cancellationToken) =>
        ex is RpcException or IOException or InvalidOperationException ||
        (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    /// <summary>A send toward the right neighbour failed: no failure when it left after completing this frame's
    /// operation (the goodbye is waited for briefly); otherwise the link is lost, naming it.</summary>
    private async Task FailedSendAsync(WireFrame frame, string route, Exception ex)
    {
        if (!await _group.WasDeliveredToLeaverAsync(_group.RightRank, frame.Op, _pumpEnded.Task))
        {
            throw _group.LinkLost(_group.RightRank, $"sending to rank {_group.RightRank} ({_group.AddressOf(_group.RightRank)}){route} failed: {ex.Message}", ex);
        }
    }

    private async Task WriteToSocketAsync(Socket socket, WireFrame frame, CancellationToken cancellationToken)
    {
        await _socketLock.WaitAsync(cancellationToken);
        byte[]? encoded = null;
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_slots is { } slots && frame.PayloadBytes <= slots.SlotBytes)
            {
                // Same host: the payload goes into a shared slot, only the header on the socket.
                await _freeSlotCount!.WaitAsync(cancellationToken); // nothing sent yet: safe to cancel
                if (!_freeSlots.TryDequeue(out var slot) || !slots.TryAddReference())
                {
                    throw new ObjectDisposedException(nameof(SharedSlots), "the shared-memory slots are gone");
                }
                try
                {
                    Fill(frame, slots.Slot(slot, frame.PayloadBytes));
                }
                finally
                {
                    slots.RemoveReference();
                }
                DataFrameHeader.Write(_header, frame, frame.PayloadBytes, slot);
                await DataSockets.SendAllAsync(socket, _header);
                return;
            }
            ReadOnlyMemory<byte> payload;
            if (frame.SourceFloats.Length == 0)
            {
                payload = frame.SourceBytes;
            }
            else if (frame.Format == WireCompression.None)
            {
                payload = new FloatBytesMemory(frame.SourceFloats).Memory; // no copy: the kernel reads the caller's buffer
            }
            else
            {
                encoded = ArrayPool<byte>.Shared.Rent(frame.PayloadBytes);
                ElementCodec.Encode(frame.SourceFloats.Span, encoded.AsSpan(0, frame.PayloadBytes), frame.Format);
                payload = encoded.AsMemory(0, frame.PayloadBytes);
            }
            DataFrameHeader.Write(_header, frame, payload.Length);
            // Sends complete inline while the kernel buffer has room; not cancellable mid-frame
            // (a torn frame would make the peer blame this rank): a failing group closes the socket.
            await DataSockets.SendAllAsync(socket, _header);
            await DataSockets.SendAllAsync(socket, payload);
        }
        catch (Exception ex) when (ex is SocketException || IsSendFailure(ex, cancellationToken))
        {
            await FailedSendAsync(frame, " over the data socket", ex);
        }
        finally
        {
            if (encoded is not null)
            {
                ArrayPool<byte>.Shared.Return(encoded);
            }
            _socketLock.Release();
        }
    }

    private static void Fill(WireFrame frame, Span<byte> slot)
    {
        if (frame.SourceFloats.Length == 0)
        {
            frame.SourceBytes.Span.CopyTo(slot);
        }
        else if (frame.Format == WireCompression.None)
        {
            MemoryMarshal.AsBytes(frame.SourceFloats.Span).CopyTo(slot);
        }
        else
        {
            ElementCodec.Encode(frame.SourceFloats.Span, slot, frame.Format);
        }
    }

    /// <summary>Reads the slot indexes the receiver hands back; ends with the socket.</summary>
    private void ReturnedSlotsLoop()
    {
        var returned = new byte[SharedMemoryOffer.SlotCount * 4];
        try
        {
            while (true)
            {
                var n = _socket!.Receive(returned);
                if (n == 0)
                {
                    return;
                }
                for (var i = 0; i < n; i++)
                {
                    if (returned[i] >= _slots!.SlotCount)
                    {
                        return;
                    }
                    _freeSlots.Enqueue(returned[i]);
                }
                _freeSlotCount!.Release(n);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or SemaphoreFullException)
        {
            // The socket closed (the link's loss is reported by the pump and the reader).
        }
        // Also after a peer returned a slot it was never given: no slot comes back any more, so the
        // next piece waits on the operation's deadline, which names the peer.
    }

    public Task TrySendControlAsync(PeerFrame control, TimeSpan timeout) =>
        ControlFrames.TrySendAsync(_writeLock, _responses, control, timeout);

    public void Dispose()
    {
        _writeLock.Dispose();
        _socketLock.Dispose();
        _socket?.Dispose();
        _slots?.Dispose();
        _freeSlotCount?.Dispose();
    }

    /// <summary>Simulates a crash (tests): resets the HTTP/2 stream.</summary>
    public void Kill()
    {
        if (_socket is not null)
        {
            DataSockets.Reset(_socket);
        }
        try
        {
            _context.GetHttpContext().Abort();
        }
        catch (ObjectDisposedException)
        {
            // The stream had already ended.
        }
    }
}
