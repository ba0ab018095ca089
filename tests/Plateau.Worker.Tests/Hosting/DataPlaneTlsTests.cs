using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Plateau.Worker.Hosting;

namespace Plateau.Worker.Tests.Hosting;

/// <summary>Plateau:Worker:DataPlaneCertificatePath switches the worker's collective endpoints to TLS.</summary>
public sealed class DataPlaneTlsTests
{
    [Fact]
    public async Task ACertificateInTheWorkerSettingsMakesEveryCollectiveEndpointServeTls()
    {
        var directory = Directory.CreateTempSubdirectory("plateau-dataplane-tls-").FullName;
        var pfx = Path.Combine(directory, "collective.pfx");
        using (var key = RSA.Create(2048))
        {
            var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pkcs12));
        }

        var options = new WorkerOptions { WorkerId = "tls-worker", JobId = "tls-job", Devices = 2, DataPlaneCertificatePath = pfx };
        await using var plane = new WorkerDataPlane(Options.Create(options), NullLoggerFactory.Instance);
        await plane.StartAsync(CancellationToken.None);
        try
        {
            Assert.StartsWith("https://", plane.Address, StringComparison.Ordinal);
            Assert.True(plane.Registry(0).UsesTls);
            Assert.True(plane.Registry(1).UsesTls);
        }
        finally
        {
            await plane.StopAsync(CancellationToken.None);
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void MissingCertificateFilesAreRefusedNamingTheSettings()
    {
        var options = new WorkerOptions
        {
            WorkerId = "w",
            JobId = "j",
            DataPlaneCertificatePath = "/nonexistent/collective.pfx",
            DataPlaneTrustedCertificatePath = "/nonexistent/ca.crt",
        };

        var result = new WorkerOptionsValidator().Validate(null, options);

        Assert.Equal(
            ["Plateau:Worker:DataPlaneCertificatePath '/nonexistent/collective.pfx' does not exist", "Plateau:Worker:DataPlaneTrustedCertificatePath '/nonexistent/ca.crt' does not exist"],
            result.Failures);
    }
}
