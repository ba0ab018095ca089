using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Plateau.Cluster;
using Plateau.Coordinator.Tests.Api;

namespace Plateau.Coordinator.Tests.Hosting;

/// <summary>Plateau:Cluster:TlsCertificatePath: silos that share the cluster certificate form one cluster over TLS.</summary>
public sealed class ClusterTlsTests
{
    /// <param name="source">A certificate made here (as plateau local does), or the one the cpu-dev Kubernetes
    /// overlay ships (made with openssl, docs/security.md).</param>
    [Theory]
    [InlineData("made here")]
    [InlineData("k8s/overlays/cpu-dev/cluster-dev.pfx")]
    public async Task TwoSilosWithTheSharedClusterCertificateFormOneCluster(string source)
    {
        var directory = Directory.CreateTempSubdirectory("plateau-cluster-tls-").FullName;
        var pfx = Path.Combine(directory, "cluster.pfx");
        if (source == "made here")
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            using var certificate = new CertificateRequest("CN=plateau-test-cluster", key, HashAlgorithmName.SHA256)
                .CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pkcs12));
        }
        else
        {
            File.Copy(Path.Combine(Repository.Root, source), pfx);
        }

        var clusterId = "tls-test-" + Guid.NewGuid().ToString("N")[..6];
        var primaryPort = ApiHost.FreePort();
        using var primary = ClusterSilo.Build(clusterId, primaryPort, tlsCertificatePath: pfx);
        using var secondary = ClusterSilo.Build(clusterId, ApiHost.FreePort(), primaryPort, pfx);
        await primary.StartAsync();
        await secondary.StartAsync();
        try
        {
            var hosts = await ClusterSilo.ActiveSilos(primary.Services.GetRequiredService<IGrainFactory>(), 2, TimeSpan.FromSeconds(60));

            Assert.Equal(2, hosts.Count);
        }
        finally
        {
            await secondary.StopAsync();
            await primary.StopAsync();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void AMissingClusterCertificateIsRefusedNamingTheSetting()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Plateau:Cluster:TlsCertificatePath"] = "/nonexistent/cluster.pfx",
        }).Build();

        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => configuration.ReadPlateauClusterOptions());

        Assert.Equal(["Plateau:Cluster:TlsCertificatePath '/nonexistent/cluster.pfx' does not exist"], error.Failures);
    }
}
