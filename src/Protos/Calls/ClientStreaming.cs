using Grpc.Core;

namespace Plateau.Protos.Calls;

/// <summary>Sending a client-streaming call's messages so that a server that answers early is heard.</summary>
public static class ClientStreaming
{
    /// <summary>
    /// Writes <paramref name="requests"/>, completes the request stream and returns the response. A server may end
    /// the call after the first message (a refused header); the write that then fails reports only that the call is
    /// over (Cancelled, no detail), so the server's own status is taken from the response instead.
    /// </summary>
    public static async Task<TResponse> SendAllAsync<TRequest, TResponse>(
        this AsyncClientStreamingCall<TRequest, TResponse> call, IAsyncEnumerable<TRequest> requests, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(requests);
        try
        {
            await foreach (var request in requests.WithCancellation(cancellationToken))
            {
                await call.RequestStream.WriteAsync(request, cancellationToken);
            }

            await call.RequestStream.CompleteAsync();
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            // The server's answer, if it gave one, says why (it throws the server's status); else the write's failure stands.
            var answered = await Task.WhenAny(call.ResponseAsync, Task.Delay(AnswerWait, cancellationToken));
            if (answered == call.ResponseAsync)
            {
                await call.ResponseAsync;
            }

            throw;
        }

        return await call.ResponseAsync;
    }

    /// <summary>How long a failed write waits for the server's status before reporting its own failure.</summary>
    private static readonly TimeSpan AnswerWait = TimeSpan.FromSeconds(10);
}
