using Grpc.Core;
using Plateau.Collective.Transport;
using Plateau.Protos.Collective.V1;

namespace Plateau.Collective.Ring;

/// <summary>Best-effort control frames (aborts) on a link's gRPC stream, from either end.</summary>
internal static class ControlFrames
{
    /// <summary>Writes <paramref name="control"/> under the link's write lock within <paramref name="timeout"/>, or
    /// gives up silently: the link may be gone already, and an abort also travels the other way round the ring.</summary>
    public static async Task TrySendAsync(SemaphoreSlim writeLock, IAsyncStreamWriter<WireFrame> stream, PeerFrame control, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await writeLock.WaitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        try
        {
            await stream.WriteAsync(WireFrame.ForControl(control), cts.Token).WaitAsync(cts.Token);
        }
        catch (Exception ex) when (ex is RpcException or IOException or InvalidOperationException or OperationCanceledException or TimeoutException)
        {
            // Gone already.
        }
        finally
        {
            writeLock.Release();
        }
    }
}
