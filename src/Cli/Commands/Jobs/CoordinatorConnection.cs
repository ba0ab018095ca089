using Grpc.Net.Client;
using Plateau.Protos.V1;

namespace Plateau.Cli.Commands.Jobs;

/// <summary>A channel to the coordinator's plateau.v1.JobService (HTTP/2; h2c for http:// addresses).</summary>
public sealed class CoordinatorConnection : IDisposable
{
    private readonly GrpcChannel _channel;

    private CoordinatorConnection(Uri address, TimeSpan timeout)
    {
        Address = address;
        CallTimeout = timeout;
        var handler = new SocketsHttpHandler
        {
            // A silent (firewalled) address fails within the deadline instead of the OS's minutes.
            ConnectTimeout = timeout,
            // A watch stream notices a coordinator that vanished without closing the connection.
            KeepAlivePingDelay = TimeSpan.FromSeconds(15),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            EnableMultipleHttp2Connections = true,
        };
        _channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
        Client = new JobService.JobServiceClient(_channel);
    }

    public Uri Address { get; }

    public TimeSpan CallTimeout { get; }

    public JobService.JobServiceClient Client { get; }

    /// <summary>The deadline for a unary call started now.</summary>
    public DateTime Deadline() => DateTime.UtcNow + CallTimeout;

    /// <summary>Opens a channel, or says why the address is not usable.</summary>
    public static CoordinatorConnection? TryOpen(string address, TimeSpan timeout, out string? error)
    {
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
        {
            error = $"--coordinator must be an http:// or https:// address such as {JobCommandOptions.DefaultAddress}, got '{address}'";
            return null;
        }

        error = null;
        return new CoordinatorConnection(uri, timeout);
    }

    public void Dispose() => _channel.Dispose();
}
