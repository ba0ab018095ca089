using System.Net;
using Microsoft.Extensions.Options;

namespace Plateau.Worker.Hosting;

public sealed class WorkerOptionsValidator : IValidateOptions<WorkerOptions>
{
    public ValidateOptionsResult Validate(string? name, WorkerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        const string Section = WorkerOptions.SectionName;
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.WorkerId) || options.WorkerId.Contains('/', StringComparison.Ordinal))
        {
            errors.Add($"{Section}:WorkerId is required and may not contain '/', got '{options.WorkerId}'");
        }

        if (!string.IsNullOrEmpty(options.JobId) && string.IsNullOrWhiteSpace(options.JobId))
        {
            errors.Add($"{Section}:JobId must be a job id, or empty for a pooled worker that serves whichever job the coordinator hands it, got '{options.JobId}'");
        }

        if (options.Devices is < 1 or > 64)
        {
            errors.Add($"{Section}:Devices must be between 1 and 64, got {options.Devices}");
        }

        if (options.DeviceKind is not ("auto" or "cpu" or "cuda"))
        {
            errors.Add($"{Section}:DeviceKind must be auto, cpu or cuda, got '{options.DeviceKind}'");
        }

        if (options.Threads < 0)
        {
            errors.Add($"{Section}:Threads must be ≥ 0 (0: cores / devices), got {options.Threads}");
        }

        if (options.DecodeThreads < 1)
        {
            errors.Add($"{Section}:DecodeThreads must be ≥ 1, got {options.DecodeThreads}");
        }

        if (options.DataPlaneListenHost != "localhost" && !IPAddress.TryParse(options.DataPlaneListenHost, out _))
        {
            errors.Add($"{Section}:DataPlaneListenHost must be an IP address or localhost, got '{options.DataPlaneListenHost}'");
        }

        if (options.DataPlanePort < 0 || options.DataPlanePort + options.Devices - 1 > 65535)
        {
            errors.Add($"{Section}:DataPlanePort must leave room for {options.Devices} consecutive ports below 65536, got {options.DataPlanePort}");
        }

        if (!string.IsNullOrEmpty(options.CheckpointTransferAddress)
            && (!Uri.TryCreate(options.CheckpointTransferAddress, UriKind.Absolute, out var transfer) || transfer.Scheme is not ("http" or "https") || string.IsNullOrEmpty(transfer.Host)))
        {
            errors.Add($"{Section}:CheckpointTransferAddress must be the coordinator's http:// or https:// API address such as http://plateau-coordinator:5100 (empty: a shared store), got {Plateau.Contracts.Errors.Quote.Value(options.CheckpointTransferAddress)}");
        }

        if (options.CollectiveTraceEveryNthOperation < 0)
        {
            errors.Add($"{Section}:CollectiveTraceEveryNthOperation must be ≥ 0 (0: no collective spans), got {options.CollectiveTraceEveryNthOperation}");
        }

        if (options.HealthPort is < 0 or > 65535)
        {
            errors.Add($"{Section}:HealthPort must be between 0 and 65535 (0: no health endpoint), got {options.HealthPort}");
        }
        else if (options.HealthPort != 0 && options.DataPlanePort != 0
            && options.HealthPort >= options.DataPlanePort && options.HealthPort < options.DataPlanePort + options.Devices)
        {
            errors.Add($"{Section}:HealthPort {options.HealthPort} falls inside the data-plane ports {options.DataPlanePort}-{options.DataPlanePort + options.Devices - 1}");
        }

        var peerTimeout = Plateau.Collective.CollectiveServerOptions.MinPeerTimeout.TotalSeconds;
        if (!double.IsFinite(options.DataPlanePeerTimeoutSeconds) || options.DataPlanePeerTimeoutSeconds < peerTimeout || options.DataPlanePeerTimeoutSeconds > 3600)
        {
            errors.Add($"{Section}:DataPlanePeerTimeoutSeconds must be between {peerTimeout} and 3600, got {options.DataPlanePeerTimeoutSeconds}");
        }

        foreach (var (setting, value) in new[]
        {
            (nameof(options.ProgressIntervalSeconds), options.ProgressIntervalSeconds),
            (nameof(options.JoinTimeoutSeconds), options.JoinTimeoutSeconds),
            (nameof(options.CollectiveTimeoutSeconds), options.CollectiveTimeoutSeconds),
            (nameof(options.PoolPollSeconds), options.PoolPollSeconds),
        })
        {
            if (!double.IsFinite(value) || value <= 0)
            {
                errors.Add($"{Section}:{setting} must be a positive number of seconds, got {value}");
            }
        }

        foreach (var (setting, path) in new[]
        {
            (nameof(options.DataPlaneCertificatePath), options.DataPlaneCertificatePath),
            (nameof(options.DataPlaneTrustedCertificatePath), options.DataPlaneTrustedCertificatePath),
        })
        {
            if (!string.IsNullOrEmpty(path) && !File.Exists(path))
            {
                errors.Add($"{Section}:{setting} '{path}' does not exist");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
