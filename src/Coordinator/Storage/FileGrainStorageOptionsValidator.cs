using Microsoft.Extensions.Options;

namespace Plateau.Coordinator.Storage;

public sealed class FileGrainStorageOptionsValidator : IValidateOptions<FileGrainStorageOptions>
{
    public ValidateOptionsResult Validate(string? name, FileGrainStorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return string.IsNullOrWhiteSpace(options.RootDirectory)
            ? ValidateOptionsResult.Fail($"grain storage '{name}': RootDirectory (Plateau:Coordinator:StateDirectory) is required")
            : ValidateOptionsResult.Success;
    }
}
