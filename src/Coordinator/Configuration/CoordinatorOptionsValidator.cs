using Microsoft.Extensions.Options;

namespace Plateau.Coordinator.Configuration;

public sealed class CoordinatorOptionsValidator : IValidateOptions<CoordinatorOptions>
{
    public ValidateOptionsResult Validate(string? name, CoordinatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        const string Section = CoordinatorOptions.SectionName;
        var errors = new List<string>();
        if (options.GrpcPort is < 1 or > 65535)
        {
            errors.Add($"{Section}:GrpcPort must be between 1 and 65535, got {options.GrpcPort}");
        }

        if (options.HealthPort is < 0 or > 65535)
        {
            errors.Add($"{Section}:HealthPort must be between 0 and 65535, got {options.HealthPort}");
        }

        if (options.HealthPort == options.GrpcPort)
        {
            errors.Add($"{Section}:HealthPort must differ from GrpcPort ({options.GrpcPort})");
        }

        if (options.ListenAddress is not ("loopback" or "any"))
        {
            errors.Add($"{Section}:ListenAddress must be 'loopback' or 'any', got '{options.ListenAddress}'");
        }

        if (string.IsNullOrWhiteSpace(options.StateDirectory))
        {
            errors.Add($"{Section}:StateDirectory is required");
        }

        if (!(options.RendezvousGraceSeconds >= 0))
        {
            errors.Add($"{Section}:RendezvousGraceSeconds must be ≥ 0, got {options.RendezvousGraceSeconds}");
        }

        if (!(options.WorkerLivenessTimeoutSeconds > 0))
        {
            errors.Add($"{Section}:WorkerLivenessTimeoutSeconds must be > 0, got {options.WorkerLivenessTimeoutSeconds}");
        }

        if (!(options.WorkerCallTimeoutSeconds > 0))
        {
            errors.Add($"{Section}:WorkerCallTimeoutSeconds must be > 0, got {options.WorkerCallTimeoutSeconds}");
        }

        if (!double.IsFinite(options.WorkerPoolLeaseSeconds) || options.WorkerPoolLeaseSeconds <= 0)
        {
            errors.Add($"{Section}:WorkerPoolLeaseSeconds must be a positive number of seconds, got {options.WorkerPoolLeaseSeconds}");
        }

        if (options.WatchPollMilliseconds < 10)
        {
            errors.Add($"{Section}:WatchPollMilliseconds must be ≥ 10, got {options.WatchPollMilliseconds}");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
