using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using Plateau.Protos.V1;

namespace Plateau.Cli.Commands.Jobs;

/// <summary>
/// A channel to the coordinator's plateau.v1.JobService (HTTP/2; h2c for http:// addresses, TLS for https://),
/// sending the bearer token on every call when one is given.
/// </summary>
public sealed class CoordinatorConnection : IDisposable
{
    private readonly GrpcChannel _channel;

    private CoordinatorConnection(Uri address, TimeSpan timeout, string? token, X509Certificate2? trusted)
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
        if (trusted is not null)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => Trusts(trusted, certificate, errors);
        }

        var options = new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true };
        if (token is not null)
        {
            var bearer = CallCredentials.FromInterceptor((_, metadata) =>
            {
                metadata.Add("authorization", "Bearer " + token);
                return Task.CompletedTask;
            });
            options.Credentials = ChannelCredentials.Create(address.Scheme == "https" ? ChannelCredentials.SecureSsl : ChannelCredentials.Insecure, bearer);
            // Over http:// the token travels in clear; that is the caller's choice (loopback, or a mesh
            // that encrypts). docs/security.md says when that is acceptable.
            options.UnsafeUseInsecureChannelCallCredentials = true;
        }

        _channel = GrpcChannel.ForAddress(address, options);
        Client = new JobService.JobServiceClient(_channel);
    }

    public Uri Address { get; }

    public TimeSpan CallTimeout { get; }

    public JobService.JobServiceClient Client { get; }

    /// <summary>The deadline for a unary call started now.</summary>
    public DateTime Deadline() => DateTime.UtcNow + CallTimeout;

    /// <summary>Opens a channel with a bearer token and a certificate to trust, or says why it cannot.</summary>
    public static CoordinatorConnection? TryOpen(string address, TimeSpan timeout, string? token, string? caCertificatePath, out string? error)
    {
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
        {
            error = $"--coordinator must be an http:// or https:// address such as {JobCommandOptions.DefaultAddress}, got '{address}'";
            return null;
        }

        X509Certificate2? trusted = null;
        if (caCertificatePath is not null)
        {
            try
            {
                trusted = X509CertificateLoader.LoadCertificateFromFile(caCertificatePath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                error = $"--ca-cert '{caCertificatePath}' is not a readable certificate: {e.Message}";
                return null;
            }
        }

        error = null;
        return new CoordinatorConnection(uri, timeout, string.IsNullOrEmpty(token) ? null : token, trusted);
    }

    /// <summary>The server's certificate is the trusted one, or chains to it (and names the host).</summary>
    private static bool Trusts(X509Certificate2 trusted, X509Certificate? presented, SslPolicyErrors errors)
    {
        if (presented is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            return false;
        }

        using var certificate = X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        if (certificate.RawDataMemory.Span.SequenceEqual(trusted.RawDataMemory.Span))
        {
            return true;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(trusted);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    public void Dispose() => _channel.Dispose();
}
