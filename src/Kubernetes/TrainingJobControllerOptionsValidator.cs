using Microsoft.Extensions.Options;

namespace Plateau.Kubernetes;

public sealed class TrainingJobControllerOptionsValidator : IValidateOptions<TrainingJobControllerOptions>
{
    public ValidateOptionsResult Validate(string? name, TrainingJobControllerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        const string Section = TrainingJobControllerOptions.SectionName;
        var errors = new List<string>();
        if (!(options.ResyncSeconds >= 0.1 && options.ResyncSeconds <= 3600))
        {
            errors.Add($"{Section}:ResyncSeconds must be between 0.1 and 3600, got {options.ResyncSeconds}");
        }

        if (options.Namespace.Length > 63)
        {
            errors.Add($"{Section}:Namespace must be a namespace name of at most 63 characters, got '{options.Namespace[..63]}…'");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
