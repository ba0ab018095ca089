using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Plateau.Collective.Tests.Ring;

public abstract class TlsTests : RingTestBase, IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("plateau-tls-");

    [Fact]
    public async Task AllReduceRunsOverTlsWithAPinnedSelfSignedCertificate()
    {
        var (pfx, cer) = CreateCertificate("trusted");
        var servers = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => CollectiveServer.StartAsync(new CollectiveServerOptions { CertificatePath = pfx })));
        try
        {
            Assert.All(servers, s => Assert.StartsWith("https://", s.Address, StringComparison.Ordinal));
            var secret = RandomNumberGenerator.GetBytes(32);
            var groups = await Task.WhenAll(servers.Select((s, rank) => CollectiveGroup.JoinAsync(s, Options(servers, rank, secret, cer))));
            var buffers = Enumerable.Range(0, 3).Select(r => Enumerable.Repeat(r + 1f, 10_000).ToArray()).ToArray();
            await Task.WhenAll(groups.Select((g, rank) => g.AllReduceAsync(buffers[rank])));
            Assert.All(buffers, b => Assert.All(b, v => Assert.Equal(6f, v)));
            // The data socket is plaintext: with TLS the chunks stay on the encrypted gRPC stream.
            Assert.All(groups, g => Assert.Equal(0, g.DataSocketCount));
            foreach (var group in groups)
            {
                await group.DisposeAsync();
            }
        }
        finally
        {
            await Task.WhenAll(servers.Select(s => s.DisposeAsync().AsTask()));
        }
    }

    [Fact]
    public async Task APeerWithAnUntrustedCertificateIsNotJoined()
    {
        var (pfx, _) = CreateCertificate("server");
        var (_, otherCer) = CreateCertificate("other");
        var servers = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => CollectiveServer.StartAsync(new CollectiveServerOptions { CertificatePath = pfx })));
        try
        {
            var secret = RandomNumberGenerator.GetBytes(32);
            var joins = servers.Select((s, rank) => CollectiveGroup.JoinAsync(s, Options(servers, rank, secret, otherCer, connectSeconds: 3))).ToArray();
            foreach (var join in joins)
            {
                var error = await Assert.ThrowsAsync<CollectiveException>(() => join);
                Assert.NotEqual(-1, error.FailedRank);
            }
        }
        finally
        {
            await Task.WhenAll(servers.Select(s => s.DisposeAsync().AsTask()));
        }
    }

    private RingOptions Options(CollectiveServer[] servers, int rank, byte[] secret, string trusted, int connectSeconds = 10) => new()
    {
        JobId = "tls-job",
        Transport = Transport,
        Generation = 1,
        Rank = rank,
        WorldSize = servers.Length,
        Peers = [.. servers.Select(s => s.Address)],
        Secret = secret,
        TrustedCertificatePath = trusted,
        ConnectTimeout = TimeSpan.FromSeconds(connectSeconds),
    };

    private (string Pfx, string Cer) CreateCertificate(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=plateau-{name}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        var pfx = Path.Combine(_directory.FullName, $"{name}.pfx");
        var cer = Path.Combine(_directory.FullName, $"{name}.cer");
        File.WriteAllBytes(pfx, certificate.Export(X509ContentType.Pfx));
        File.WriteAllBytes(cer, certificate.Export(X509ContentType.Cert));
        return (pfx, cer);
    }

    public void Dispose()
    {
        _directory.Delete(recursive: true);
        GC.SuppressFinalize(this);
    }

    public sealed class OverGrpc : TlsTests
    {
        protected override DataTransport Transport => DataTransport.Grpc;
    }

    public sealed class OverSockets : TlsTests
    {
        protected override DataTransport Transport => DataTransport.Socket;
    }
}
