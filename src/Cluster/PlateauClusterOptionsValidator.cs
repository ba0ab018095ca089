using System.Net;
using Microsoft.Extensions.Options;
using Plateau.Contracts.Errors;

namespace Plateau.Cluster;

public sealed class PlateauClusterOptionsValidator : IValidateOptions<PlateauClusterOptions>
{
    public ValidateOptionsResult Validate(string? name, PlateauClusterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        const string Section = PlateauClusterOptions.SectionName;
        if (string.IsNullOrWhiteSpace(options.ClusterId))
        {
            errors.Add($"{Section}:ClusterId is required");
        }

        if (options.TlsCertificatePath is { Length: > 0 } tls && !File.Exists(tls))
        {
            errors.Add($"{Section}:TlsCertificatePath '{tls}' does not exist");
        }

        if (options.TlsTrustedCertificatePath is { Length: > 0 } trusted && !File.Exists(trusted))
        {
            errors.Add($"{Section}:TlsTrustedCertificatePath '{trusted}' does not exist");
        }

        if (string.IsNullOrEmpty(options.TlsCertificatePath) && !string.IsNullOrEmpty(options.TlsTrustedCertificatePath))
        {
            errors.Add($"{Section}:TlsTrustedCertificatePath is set but {Section}:TlsCertificatePath is not");
        }

        if (string.IsNullOrWhiteSpace(options.ServiceId))
        {
            errors.Add($"{Section}:ServiceId is required");
        }

        if (options.SiloPort is < 1 or > 65535)
        {
            errors.Add($"{Section}:SiloPort must be between 1 and 65535, got {options.SiloPort}");
        }

        if (options.GatewayPort is < 0 or > 65535)
        {
            errors.Add($"{Section}:GatewayPort must be between 0 and 65535, got {options.GatewayPort}");
        }

        if (options.GatewayPort != 0 && options.GatewayPort == options.SiloPort)
        {
            errors.Add($"{Section}:GatewayPort must differ from SiloPort ({options.SiloPort})");
        }

        if (options.PrimarySiloEndpoint is { } primary && !IPEndPoint.TryParse(primary, out _))
        {
            errors.Add($"{Section}:PrimarySiloEndpoint must be host:port with an IP address (e.g. 127.0.0.1:11111), got '{primary}'");
        }

        if (options.AdvertisedAddress is { } advertised && !IPAddress.TryParse(advertised, out _))
        {
            errors.Add($"{Section}:AdvertisedAddress must be an IP address, got '{advertised}'");
        }

        if (options.Provider == ClusteringProvider.AdoNet)
        {
            if (string.IsNullOrWhiteSpace(options.AdoNetConnectionString))
            {
                errors.Add($"{Section}:AdoNetConnectionString is required when {Section}:Provider is AdoNet");
            }
            else if (ConnectionStrings.Problem(options.AdoNetConnectionString) is { } problem)
            {
                errors.Add($"{Section}:AdoNetConnectionString {ConnectionStrings.Quoted(options.AdoNetConnectionString)} is not a PostgreSQL connection string: {problem}");
            }

            // The Orleans schema scripts Plateau ships and applies are PostgreSQL's.
            if (options.AdoNetInvariant != "Npgsql")
            {
                errors.Add($"{Section}:AdoNetInvariant must be 'Npgsql' (PostgreSQL, the only database whose schema Plateau ships), got {Quote.Value(options.AdoNetInvariant)}");
            }
        }

        // Kubernetes hosting only adds the pod's identity and the pod watch; the membership table is still PostgreSQL's.
        if (options.KubernetesHosting && options.Provider != ClusteringProvider.AdoNet)
        {
            errors.Add($"{Section}:KubernetesHosting needs {Section}:Provider AdoNet (the membership table in PostgreSQL), got {options.Provider}");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
