using System.Diagnostics;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Plateau.ServiceDefaults.Telemetry;

namespace Plateau.Coordinator.Api;

/// <summary>
/// Counts and times every coordinator gRPC call (JobService, CheckpointTransfer) by method and final
/// status, and wraps it in a <c>plateau.api</c> span. A streaming call is timed until it ends.
/// </summary>
public sealed class ApiTelemetryInterceptor : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        using var call = new Measured(context.Method);
        try
        {
            return await continuation(request, context);
        }
        catch (Exception e)
        {
            call.Failed(e);
            throw;
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        using var call = new Measured(context.Method);
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception e)
        {
            call.Failed(e);
            throw;
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        using var call = new Measured(context.Method);
        try
        {
            return await continuation(requestStream, context);
        }
        catch (Exception e)
        {
            call.Failed(e);
            throw;
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        using var call = new Measured(context.Method);
        try
        {
            await continuation(requestStream, responseStream, context);
        }
        catch (Exception e)
        {
            call.Failed(e);
            throw;
        }
    }

    /// <summary>One call: its span, its clock and its final status.</summary>
    private sealed class Measured : IDisposable
    {
        private readonly string _method;
        private readonly long _started = Stopwatch.GetTimestamp();
        private readonly Activity? _span;
        private StatusCode _status = StatusCode.OK;

        public Measured(string method)
        {
            _method = method;
            _span = PlateauActivities.Source.StartActivity(PlateauActivities.ApiCall, ActivityKind.Internal);
            _span?.SetTag("rpc.method", method);
        }

        public void Failed(Exception e)
        {
            _status = e is RpcException rpc ? rpc.StatusCode : e is OperationCanceledException ? StatusCode.Cancelled : StatusCode.Unknown;
            _span?.SetStatus(ActivityStatusCode.Error, e.Message);
        }

        public void Dispose()
        {
            var tags = new TagList { { PlateauMetrics.MethodTag, _method }, { PlateauMetrics.StatusTag, _status.ToString() } };
            PlateauMetrics.ApiRequests.Add(1, tags);
            PlateauMetrics.ApiDuration.Record(Stopwatch.GetElapsedTime(_started).TotalSeconds, tags);
            _span?.SetTag("rpc.grpc.status_code", (int)_status);
            _span?.Dispose();
        }
    }
}
