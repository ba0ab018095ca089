using System.Threading.Channels;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Plateau.Collective.Transport;
using Plateau.Protos.Collective.V1;

namespace Plateau.Collective.Ring;

/// <summary>
/// One accepted Exchange stream from the ring predecessor. Its pump (the gRPC handler itself) reads
/// frames as they arrive and queues chunks for the running operation; the bounded queue turns a rank
/// that is busy elsewhere into HTTP/2 back-pressure rather than buffered gigabytes.
/// </summary>
internal sealed class IncomingLink : IDisposable
{
    /// <summary>Pieces a stream may hold ahead of the operation reading them.</summary>
    public const int QueueCapacity = 8;

    private readonly CollectiveGroup _group;
    private readonly IAsyncStreamReader<WireFrame> _requests;
    private readonly IServerStreamWriter<WireFrame> _responses;
    private readonly ServerCallContext _context;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Channel<WireFrame> _frames = Channel.CreateBounded<WireFrame>(new BoundedChannelOptions(QueueCapacity)
    {
        SingleReader = true,
        SingleWriter = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    public IncomingLink(CollectiveGroup group, int streamIndex, IAsyncStreamReader<WireFrame> requests, IServerStreamWriter<WireFrame> responses, ServerCallContext context, string remote)
    {
        _group = group;
        StreamIndex = streamIndex;
        _requests = requests;
        _responses = responses;
        _context = context;
        Remote = remote;
    }

    public int StreamIndex { get; }

    public string Remote { get; }

    public ChannelReader<WireFrame> Frames => _frames.Reader;

    public async Task PumpAsync(CancellationToken stop)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, _context.CancellationToken);
        var token = linked.Token;
        try
        {
            while (await _requests.MoveNext(token))
            {
                var frame = _requests.Current;
                if (frame.IsChunk)
                {
                    try
                    {
                        await _frames.Writer.WriteAsync(frame, token);
                    }
                    catch
                    {
                        frame.Release();
                        throw;
                    }
                }
                else if (frame.Control?.Abort is { } abort)
                {
                    _group.OnAbortFrame(abort);
                }
            }
            _group.LinkLost(_group.LeftRank, $"rank {_group.LeftRank} ({_group.AddressOf(_group.LeftRank)}) closed its stream", null);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or RpcException or InvalidOperationException)
        {
            if (!stop.IsCancellationRequested)
            {
                _group.LinkLost(_group.LeftRank, $"connection from rank {_group.LeftRank} ({_group.AddressOf(_group.LeftRank)}) lost: {ex.Message}", ex);
            }
        }
        finally
        {
            _frames.Writer.TryComplete();
            while (_frames.Reader.TryRead(out var left))
            {
                left.Release();
            }
        }
    }

    public async Task TrySendControlAsync(PeerFrame control, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _writeLock.WaitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        try
        {
            await _responses.WriteAsync(WireFrame.ForControl(control), cts.Token);
        }
        catch (Exception ex) when (ex is RpcException or IOException or InvalidOperationException or OperationCanceledException)
        {
            // Gone already; the abort also travels the other way round the ring.
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public void Dispose() => _writeLock.Dispose();

    /// <summary>Simulates a crash (tests): resets the HTTP/2 stream.</summary>
    public void Kill()
    {
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
