using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Plateau.Collective.Hosting;

namespace Plateau.Collective;

/// <summary>
/// A standalone in-process Kestrel HTTP/2 server for one rank's collective endpoint. Start it once
/// per process (port 0 is fine: read <see cref="Address"/>), publish the address through the
/// coordinator, then join each generation's <see cref="CollectiveGroup"/> on it.
/// </summary>
public sealed class CollectiveServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private CollectiveServer(WebApplication app, CollectivePeerRegistry registry)
    {
        _app = app;
        Registry = registry;
    }

    /// <summary>The address peers dial, e.g. "http://127.0.0.1:41234".</summary>
    public string Address => Registry.Address!;

    /// <summary>The registry groups join through.</summary>
    public CollectivePeerRegistry Registry { get; }

    public static async Task<CollectiveServer> StartAsync(CollectiveServerOptions options, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var validation = new CollectiveServerOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(nameof(CollectiveServerOptions), typeof(CollectiveServerOptions), validation.Failures);
        }
        Transport.ElementCodec.EnsureLittleEndian();

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<ILoggerFactory>(loggerFactory ?? NullLoggerFactory.Instance);
        // The embedding process owns Ctrl+C / SIGTERM, not this endpoint.
        builder.Services.AddSingleton<IHostLifetime, PassiveLifetime>();
        X509Certificate2? certificate = null;
        if (options.CertificatePath is { } path)
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(path, options.CertificatePassword);
        }
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            var http2 = kestrel.Limits.Http2;
            http2.InitialStreamWindowSize = options.StreamWindowBytes;
            http2.InitialConnectionWindowSize = options.ConnectionWindowBytes;
            http2.MaxFrameSize = options.MaxFrameBytes;
            http2.KeepAlivePingDelay = Transport.PeerLiveness.PingDelay(options.PeerTimeout);
            http2.KeepAlivePingTimeout = Transport.PeerLiveness.PingTimeout(options.PeerTimeout);
            http2.MaxStreamsPerConnection = 1024;
            kestrel.Limits.MaxRequestBodySize = null; // streams are long-lived; gRPC's message limit applies
            kestrel.Limits.MinRequestBodyDataRate = null; // idle between steps is normal; liveness is the PING's job
            var address = options.ListenHost == "localhost" ? IPAddress.Loopback : IPAddress.Parse(options.ListenHost);
            kestrel.Listen(address, options.Port, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                if (certificate is not null)
                {
                    listen.UseHttps(certificate);
                }
            });
        });
        builder.Services.AddPlateauCollective(options);

        var app = builder.Build();
        app.MapPlateauCollective();
        await app.StartAsync(cancellationToken);

        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var uri = new Uri(bound);
        var host = options.AdvertisedHost ?? (IPAddress.TryParse(uri.Host, out var ip) && (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any)) ? Dns.GetHostName() : uri.Host);
        var registry = app.Services.GetRequiredService<CollectivePeerRegistry>();
        registry.Address = $"{uri.Scheme}://{host}:{uri.Port}";
        registry.UsesTls = certificate is not null;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<CollectiveServer>();
        CollectiveLog.Listening(logger, registry.Address, registry.UsesTls);
        return new CollectiveServer(app, registry);
    }

    /// <summary>Stops listening; open streams are aborted (groups on it fail their peers).</summary>
    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await _app.StopAsync(stop.Token);
        }
        catch (OperationCanceledException)
        {
            // Streams that did not end in time were aborted; that is the intent.
        }
        await _app.DisposeAsync();
    }

    private sealed class PassiveLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
