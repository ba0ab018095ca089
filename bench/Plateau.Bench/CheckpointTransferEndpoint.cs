using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Plateau.Coordinator.Api;
using Plateau.Coordinator.Checkpoints;
using Proto = Plateau.Protos.V1;

namespace Plateau.Bench;

/// <summary>
/// plateau.v1.CheckpointTransfer/Upload on loopback HTTP/2 over the coordinator's own <see cref="ICheckpointStorage"/>
/// and chunk reader: what the real service does per byte (hash, write, fsync, seal). Left out: its one grain
/// call per upload that checks generation and token, which costs nothing next to 200 MB.
/// </summary>
internal sealed class CheckpointTransferEndpoint : IAsyncDisposable
{
    private readonly WebApplication _app;

    private CheckpointTransferEndpoint(WebApplication app, Uri address) => (_app, Address) = (app, address);

    public Uri Address { get; }

    public static async Task<CheckpointTransferEndpoint> StartAsync(ICheckpointStorage store)
    {
        var port = Machine.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.ListenLocalhost(port, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(o => o.MaxReceiveMessageSize = 4 << 20);
        builder.Services.AddSingleton(store);
        var app = builder.Build();
        app.MapGrpcService<UploadOnly>();
        await app.StartAsync();
        return new CheckpointTransferEndpoint(app, new Uri($"http://localhost:{port}"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed class UploadOnly(ICheckpointStorage store) : Proto.CheckpointTransfer.CheckpointTransferBase
    {
        public override async Task<Proto.UploadResult> Upload(IAsyncStreamReader<Proto.UploadChunk> requestStream, ServerCallContext context)
        {
            if (!await requestStream.MoveNext(context.CancellationToken) || requestStream.Current.Header is not { } access)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, "header: the first message of an upload must be the header"));
            }

            var received = await store.ReceiveAsync(access.JobId, access.CheckpointId, requestStream.Current.Offset,
                CheckpointTransferService.DataChunks(requestStream, context.CancellationToken), context.CancellationToken);
            return new Proto.UploadResult { SizeBytes = received.SizeBytes, Sha256 = received.Sha256 };
        }
    }
}
