using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Plateau.Collective;
using Plateau.Collective.Hosting;
using Plateau.Contracts.Rendezvous;

namespace Plateau.Worker.Hosting;

/// <summary>
/// The worker's collective endpoints: one per device on consecutive ports, so a single data-plane
/// address (device 0's, the one registered with the job) names them all — local rank i listens on
/// that port + i. Every rank is then its own ring member, which keeps the ring's failure reports in
/// global ranks.
/// </summary>
public sealed partial class WorkerDataPlane(IOptions<WorkerOptions> options, ILoggerFactory loggerFactory) : IHostedService, IAsyncDisposable
{
    private const int PortAttempts = 20;
    private readonly WorkerOptions _options = options.Value;
    private readonly ILogger _logger = loggerFactory.CreateLogger<WorkerDataPlane>();
    private CollectiveServer[] _servers = [];

    /// <summary>Device 0's address, registered with the job.</summary>
    public string Address => _servers.Length > 0 ? _servers[0].Address : throw new InvalidOperationException("the data plane has not started");

    /// <summary>Every device's collective endpoint is listening (the worker's readiness).</summary>
    public bool IsListening => _servers.Length > 0;

    public CollectivePeerRegistry Registry(int localRank) =>
        localRank >= 0 && localRank < _servers.Length ? _servers[localRank].Registry : throw new InvalidOperationException($"no collective endpoint for local rank {localRank} (started: {_servers.Length})");

    /// <summary>The collective address of a peer: its worker's address with the port moved by its local rank.</summary>
    public static string AddressOf(PeerInfo peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        if (!Uri.TryCreate(peer.Address, UriKind.Absolute, out var uri))
        {
            throw new ArgumentException($"rank {peer.Rank}: data-plane address '{peer.Address}' is not an absolute URI", nameof(peer));
        }

        return new UriBuilder(uri) { Port = uri.Port + peer.LocalRank, Path = "" }.Uri.GetLeftPart(UriPartial.Authority);
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < PortAttempts; attempt++)
        {
            var servers = new List<CollectiveServer>();
            try
            {
                var first = await StartOneAsync(_options.DataPlanePort, cancellationToken);
                servers.Add(first);
                var basePort = new Uri(first.Address).Port;
                for (var i = 1; i < _options.Devices; i++)
                {
                    servers.Add(await StartOneAsync(basePort + i, cancellationToken));
                }

                _servers = [.. servers];
                LogListening(_logger, _options.WorkerId, Address, _servers.Length);
                return;
            }
            catch (IOException) when (_options.DataPlanePort == 0)
            {
                // A later device's port was taken: try another base port.
                foreach (var server in servers)
                {
                    await server.DisposeAsync();
                }
            }
        }

        throw new InvalidOperationException($"could not find {_options.Devices} free consecutive ports for the collective endpoints after {PortAttempts} attempts");
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync();

    public async ValueTask DisposeAsync()
    {
        var servers = Interlocked.Exchange(ref _servers, []);
        foreach (var server in servers)
        {
            await server.DisposeAsync();
        }
    }

    private Task<CollectiveServer> StartOneAsync(int port, CancellationToken cancellationToken) =>
        CollectiveServer.StartAsync(new CollectiveServerOptions
        {
            ListenHost = _options.DataPlaneListenHost,
            Port = port,
            AdvertisedHost = _options.DataPlaneAdvertisedHost,
            PeerTimeout = TimeSpan.FromSeconds(_options.DataPlanePeerTimeoutSeconds),
            CertificatePath = string.IsNullOrEmpty(_options.DataPlaneCertificatePath) ? null : _options.DataPlaneCertificatePath,
            CertificatePassword = _options.DataPlaneCertificatePassword,
        }, loggerFactory, cancellationToken);

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker {WorkerId}: collective endpoints at {Address} (+{Count} consecutive ports)")]
    private static partial void LogListening(ILogger logger, string workerId, string address, int count);
}
