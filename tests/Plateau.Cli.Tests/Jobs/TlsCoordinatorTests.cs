using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Plateau.Cli.Commands.Jobs;

namespace Plateau.Cli.Tests.Jobs;

/// <summary>The CLI against a coordinator serving TLS with a self-signed certificate made here.</summary>
public sealed class TlsCoordinatorTests
{
    [Fact]
    public async Task TheCliTrustsASelfSignedCoordinatorOnlyThroughCaCert()
    {
        var directory = Directory.CreateTempSubdirectory("plateau-cli-tls-").FullName;
        var (certificatePath, keyPath) = SelfSigned(directory, "localhost");
        var (otherPath, _) = SelfSigned(directory, "other");
        var host = CoordinatorFixture.With(new Dictionary<string, string?>
        {
            ["Plateau:Api:Tls:CertificatePath"] = certificatePath,
            ["Plateau:Api:Tls:KeyPath"] = keyPath,
        });
        await host.InitializeAsync();
        try
        {
            var address = $"https://localhost:{host.GrpcPort}";

            var trusted = await CliRunner.RunAsync("job", "list", "--coordinator", address, "--token", CoordinatorFixture.Token, "--ca-cert", certificatePath);
            var untrusted = await CliRunner.RunAsync("job", "list", "--coordinator", address, "--token", CoordinatorFixture.Token, "--ca-cert", otherPath);
            var missing = await CliRunner.RunAsync("job", "list", "--coordinator", address, "--token", CoordinatorFixture.Token, "--ca-cert", Path.Combine(directory, "absent.crt"));

            Assert.Equal((JobExitCodes.Ok, "no jobs", ""), (trusted.ExitCode, trusted.Output.Trim(), trusted.Error));
            Assert.Equal(JobExitCodes.Unreachable, untrusted.ExitCode);
            Assert.Equal("", untrusted.Output);
            Assert.StartsWith($"cannot reach the coordinator at {address}: the TLS handshake failed: ", untrusted.Error, StringComparison.Ordinal);
            Assert.Contains("--ca-cert or PLATEAU_CA_CERT", untrusted.Error, StringComparison.Ordinal);
            Assert.Equal(JobExitCodes.Unreachable, missing.ExitCode);
            Assert.StartsWith($"--ca-cert '{Path.Combine(directory, "absent.crt")}' is not a readable certificate", missing.Error, StringComparison.Ordinal);
        }
        finally
        {
            await host.DisposeAsync();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static (string Certificate, string Key) SelfSigned(string directory, string name)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        var certificatePath = Path.Combine(directory, name + ".crt");
        var keyPath = Path.Combine(directory, name + ".key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certificatePath, keyPath);
    }
}
