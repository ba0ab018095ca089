using Microsoft.Extensions.Options;

namespace Plateau.Coordinator.Security;

public sealed class ApiTlsOptionsValidator : IValidateOptions<ApiTlsOptions>
{
    public ValidateOptionsResult Validate(string? name, ApiTlsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        const string Section = ApiTlsOptions.SectionName;
        var errors = new List<string>();
        if (!options.IsConfigured)
        {
            if (!string.IsNullOrEmpty(options.KeyPath))
            {
                errors.Add($"{Section}:KeyPath is set but {Section}:CertificatePath is not");
            }

            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }

        if (!File.Exists(options.CertificatePath))
        {
            errors.Add($"{Section}:CertificatePath '{options.CertificatePath}' does not exist");
        }

        if (!string.IsNullOrEmpty(options.KeyPath) && !File.Exists(options.KeyPath))
        {
            errors.Add($"{Section}:KeyPath '{options.KeyPath}' does not exist");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
