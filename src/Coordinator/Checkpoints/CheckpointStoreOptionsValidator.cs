using Microsoft.Extensions.Options;

namespace Plateau.Coordinator.Checkpoints;

public sealed class CheckpointStoreOptionsValidator : IValidateOptions<CheckpointStoreOptions>
{
    public ValidateOptionsResult Validate(string? name, CheckpointStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return string.IsNullOrWhiteSpace(options.RootDirectory)
            ? ValidateOptionsResult.Fail($"{CheckpointStoreOptions.SectionName}:RootDirectory is required")
            : ValidateOptionsResult.Success;
    }
}
