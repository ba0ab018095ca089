using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Plateau.Cli.Commands.Local;

/// <summary>
/// What <c>plateau local</c> makes for its own run: a bearer token for the JobService (handed to the
/// coordinator in its environment, never on a command line) and a self-signed certificate every silo of
/// the run uses for Orleans TLS. Both are files readable only by this user in the run folder, so
/// <c>PLATEAU_TOKEN=$(cat DIR/api-token) plateau job list</c> works while the run goes on.
/// </summary>
public sealed record LocalSecrets(string Token, string TokenPath, string ClusterCertificatePath)
{
    /// <summary>The environment variable that sets the coordinator's first accepted token.</summary>
    public const string CoordinatorTokenVariable = "Plateau__Api__Auth__Tokens__0";

    public static LocalSecrets Create(string root)
    {
        var token = RandomNumberGenerator.GetHexString(64, lowercase: true);
        var tokenPath = Path.Combine(root, "api-token");
        WritePrivate(tokenPath, System.Text.Encoding.ASCII.GetBytes(token));

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=plateau-local-cluster", key, HashAlgorithmName.SHA256);
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(30));
        var certificatePath = Path.Combine(root, "cluster-tls.pfx");
        WritePrivate(certificatePath, certificate.Export(X509ContentType.Pkcs12));
        return new LocalSecrets(token, tokenPath, certificatePath);
    }

    private static void WritePrivate(string path, byte[] content)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var file = new FileStream(path, options);
        file.Write(content);
    }
}
