using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;

namespace Plateau.Coordinator.Api;

/// <summary>
/// The one place the coordinator's gRPC services turn exceptions into statuses: the domain's exceptions
/// (invalid spec, unknown job, wrong phase, taken id) become INVALID_ARGUMENT with field violations,
/// NOT_FOUND, FAILED_PRECONDITION or ALREADY_EXISTS; an Orleans timeout becomes UNAVAILABLE; anything else
/// is logged and answered INTERNAL without its message (which may hold internals).
/// </summary>
public sealed partial class ApiErrorInterceptor(ILogger<ApiErrorInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        try
        {
            return await continuation(request, context);
        }
        catch (Exception e) when (Map(e, context) is { } status)
        {
            throw status;
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception e) when (Map(e, context) is { } status)
        {
            throw status;
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        try
        {
            return await continuation(requestStream, context);
        }
        catch (Exception e) when (Map(e, context) is { } status)
        {
            throw status;
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        try
        {
            await continuation(requestStream, responseStream, context);
        }
        catch (Exception e) when (Map(e, context) is { } status)
        {
            throw status;
        }
    }

    /// <summary>The status to answer instead of <paramref name="e"/>; null leaves it as it is (already a status, or the caller went away).</summary>
    private RpcException? Map(Exception e, ServerCallContext context)
    {
        switch (e)
        {
            case RpcException:
                return null;
            case OperationCanceledException when context.CancellationToken.IsCancellationRequested:
                return null;
            case TimeoutException:
                LogTimeout(logger, context.Method, e.Message);
                return new RpcException(new Status(StatusCode.Unavailable, "the coordinator's cluster did not answer in time; retry"));
        }

        if (RpcErrors.FromDomain(e) is { } status)
        {
            return status;
        }

        LogUnexpected(logger, e, context.Method);
        return new RpcException(new Status(StatusCode.Internal, $"internal error in {context.Method} ({e.GetType().Name}); see the coordinator's log"));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method}: cluster call timed out: {Reason}")]
    private static partial void LogTimeout(ILogger logger, string method, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} failed unexpectedly")]
    private static partial void LogUnexpected(ILogger logger, Exception exception, string method);
}
