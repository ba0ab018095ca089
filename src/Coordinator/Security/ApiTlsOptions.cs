namespace Plateau.Coordinator.Security;

/// <summary>
/// Section <c>Plateau:Api:Tls</c>: when <see cref="CertificatePath"/> is set the JobService port
/// serves HTTPS (TLS) only. PEM certificate with <see cref="KeyPath"/>, or a PFX/PKCS#12 file with
/// <see cref="CertificatePassword"/>.
/// </summary>
public sealed class ApiTlsOptions
{
    public const string SectionName = "Plateau:Api:Tls";

    public string? CertificatePath { get; set; }

    /// <summary>PEM private key of a PEM <see cref="CertificatePath"/>.</summary>
    public string? KeyPath { get; set; }

    public string? CertificatePassword { get; set; }

    public bool IsConfigured => !string.IsNullOrEmpty(CertificatePath);
}
