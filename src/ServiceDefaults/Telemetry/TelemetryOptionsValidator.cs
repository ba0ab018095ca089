using Microsoft.Extensions.Options;

namespace Plateau.ServiceDefaults.Telemetry;

public sealed class TelemetryOptionsValidator : IValidateOptions<TelemetryOptions>
{
    public ValidateOptionsResult Validate(string? name, TelemetryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        List<string> problems = [];
        if (options.MetricsPort is < 0 or > 65535)
        {
            problems.Add($"{TelemetryOptions.SectionName}:MetricsPort must be 0 (no endpoint) or a port 1-65535, got {options.MetricsPort}");
        }

        if (options.MetricsListenAddress is not ("loopback" or "any"))
        {
            var shown = options.MetricsListenAddress.Length > 40 ? options.MetricsListenAddress[..40] + "…" : options.MetricsListenAddress;
            problems.Add($"{TelemetryOptions.SectionName}:MetricsListenAddress must be 'loopback' or 'any', got '{shown}'");
        }

        return problems.Count > 0 ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
    }
}
