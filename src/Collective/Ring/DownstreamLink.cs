using Grpc.AspNetCore.Server;
using Grpc.Core;
using Plateau.Collective.Transport;
using Plateau.Protos.Collective.V1;

namespace Plateau.Collective.Ring;

/// <summary>
/// One accepted Exchange call from the ring successor (right neighbour): this rank streams its data
/// to the successor on the response stream; the gRPC handler itself stays in <see cref="PumpAsync"/>
/// reading control frames (aborts) from the request stream for the call's lifetime.
/// </summary>
internal sealed class DownstreamLink : IDisposable
{
    private readonly CollectiveGroup _group;
    private readonly IAsyncStreamReader<WireFrame> _requests;
    private readonly IServerStreamWriter<WireFrame> _responses;
    private readonly ServerCallContext _context;
    private readonly SemaphoreSlim _writeLock = new(1, 1);

    public DownstreamLink(CollectiveGroup group, int streamIndex, IAsyncStreamReader<WireFrame> requests, IServerStreamWriter<WireFrame> responses, ServerCallContext context, string remote)
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
            _group.LinkLost(_group.RightRank, $"rank {_group.RightRank} ({_group.AddressOf(_group.RightRank)}) closed its stream", null);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or RpcException or InvalidOperationException)
        {
            if (!stop.IsCancellationRequested)
            {
                _group.LinkLost(_group.RightRank, $"connection from rank {_group.RightRank} ({_group.AddressOf(_group.RightRank)}) lost: {ex.Message}", ex);
            }
        }
    }

    /// <summary>Sends one data frame. Not cancellable mid-write (a reset stream would make the peer blame this rank); callers stop issuing writes once their token fires.</summary>
    public async Task WriteAsync(WireFrame frame, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            await _responses.WriteAsync(frame, CancellationToken.None);
        }
        catch (Exception ex) when (ex is RpcException or IOException or InvalidOperationException)
        {
            throw _group.LinkLost(_group.RightRank, $"sending to rank {_group.RightRank} ({_group.AddressOf(_group.RightRank)}) failed: {ex.Message}", ex);
        }
        finally
        {
            _writeLock.Release();
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
