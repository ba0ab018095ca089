using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using Plateau.Protos.V1;

namespace Plateau.Coordinator.Tests.Api;

/// <summary>The API port with TLS from Plateau:Api:Tls (a self-signed certificate made here), and with authentication switched off.</summary>
public sealed class ApiTlsTests
{
    private static X509Certificate2 SelfSigned(string directory, out string certificatePath, out string keyPath)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        certificatePath = Path.Combine(directory, "api.crt");
        keyPath = Path.Combine(directory, "api.key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return certificate;
    }

    [Fact]
    public async Task TheApiServesTlsWithTheConfiguredCertificateAndRefusesPlainHttp2()
    {
        var directory = Directory.CreateTempSubdirectory("plateau-tls-").FullName;
        using var certificate = SelfSigned(directory, out var certificatePath, out var keyPath);
        await using var host = await ApiHostWith(new()
        {
            ["Plateau:Api:Tls:CertificatePath"] = certificatePath,
            ["Plateau:Api:Tls:KeyPath"] = keyPath,
        });
        X509Certificate2? presented = null;
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, _, _) =>
        {
            presented = cert is null ? null : X509CertificateLoader.LoadCertificate(cert.GetRawCertData());
            return presented?.Thumbprint == certificate.Thumbprint;
        };
        using var tls = GrpcChannel.ForAddress($"https://127.0.0.1:{host.GrpcPort}", new GrpcChannelOptions
        {
            HttpHandler = handler,
            Credentials = ChannelCredentials.Create(ChannelCredentials.SecureSsl, ApiHost.Bearer(ApiHost.Token)),
        });

        var listed = await new JobService.JobServiceClient(tls).ListJobsAsync(new ListJobsRequest());
        var plain = await Assert.ThrowsAsync<RpcException>(async () => await host.Client().ListJobsAsync(new ListJobsRequest(), deadline: DateTime.UtcNow.AddSeconds(20)));

        Assert.Empty(listed.Jobs);
        Assert.Equal(certificate.Thumbprint, presented?.Thumbprint);
        Assert.NotEqual(StatusCode.OK, plain.StatusCode);
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task WithAuthenticationSwitchedOffTheApiAnswersWithoutAToken()
    {
        await using var host = await ApiHostWith(new()
        {
            ["Plateau:Api:Auth:Enabled"] = "false",
        });

        var listed = await host.Client(token: null).ListJobsAsync(new ListJobsRequest());

        Assert.Empty(listed.Jobs);
    }

    private static async Task<DisposableHost> ApiHostWith(Dictionary<string, string?> settings) => new(await ApiHost.StartAsync(settings));

    /// <summary>await using for a host made in the test.</summary>
    private sealed class DisposableHost(ApiHost host) : IAsyncDisposable
    {
        public int GrpcPort => host.GrpcPort;

        public JobService.JobServiceClient Client(string? token = ApiHost.Token) => host.Client(token);

        public async ValueTask DisposeAsync() => await host.DisposeAsync();
    }
}
