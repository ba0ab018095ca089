using System.Collections.Concurrent;
using System.Net;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Plateau.Worker.Tests.Otlp;

namespace Plateau.Worker.Tests.EndToEnd;

/// <summary>A span the test collector received, with the service that sent it.</summary>
internal sealed record ReceivedSpan(string Service, string ServiceInstance, string Name, string TraceId, string SpanId, string ParentSpanId, IReadOnlyDictionary<string, string> Tags);

/// <summary>
/// An OTLP/gRPC trace receiver on a free loopback port, standing in for an OpenTelemetry Collector: the
/// processes under test export to it through the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> variable.
/// </summary>
internal sealed class OtlpCollector : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OtlpCollector(WebApplication app, string address)
    {
        _app = app;
        Address = address;
    }

    public string Address { get; }

    public ConcurrentQueue<ReceivedSpan> Spans { get; } = new();

    public static async Task<OtlpCollector> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton<TraceReceiver>();
        var app = builder.Build();
        app.MapGrpcService<TraceReceiver>();
        await app.StartAsync();
        var collector = new OtlpCollector(app, app.Urls.Single().Replace("[::1]", "127.0.0.1", StringComparison.Ordinal));
        app.Services.GetRequiredService<TraceReceiver>().Into = collector.Spans;
        return collector;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed class TraceReceiver : TraceService.TraceServiceBase
    {
        public ConcurrentQueue<ReceivedSpan>? Into { get; set; }

        public override Task<ExportTraceServiceResponse> Export(ExportTraceServiceRequest request, ServerCallContext context)
        {
            foreach (var resource in request.ResourceSpans)
            {
                var attributes = Text(resource.Resource?.Attributes ?? []);
                foreach (var span in resource.ScopeSpans.SelectMany(s => s.Spans))
                {
                    Into?.Enqueue(new ReceivedSpan(attributes.GetValueOrDefault("service.name", ""), attributes.GetValueOrDefault("service.instance.id", ""),
                        span.Name, Convert.ToHexStringLower(span.TraceId.Span), Convert.ToHexStringLower(span.SpanId.Span),
                        Convert.ToHexStringLower(span.ParentSpanId.Span), Text(span.Attributes)));
                }
            }

            return Task.FromResult(new ExportTraceServiceResponse());
        }

        private static Dictionary<string, string> Text(IEnumerable<KeyValue> attributes) => attributes
            .GroupBy(a => a.Key)
            .ToDictionary(g => g.Key, g => g.First().Value switch
            {
                { ValueCase: AnyValue.ValueOneofCase.StringValue } v => v.StringValue,
                { ValueCase: AnyValue.ValueOneofCase.IntValue } v => v.IntValue.ToString(System.Globalization.CultureInfo.InvariantCulture),
                { ValueCase: AnyValue.ValueOneofCase.BoolValue } v => v.BoolValue ? "true" : "false",
                { ValueCase: AnyValue.ValueOneofCase.DoubleValue } v => v.DoubleValue.ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => "",
            });
    }
}
