using Microsoft.Extensions.Options;

namespace Plateau.Coordinator.Storage.Reminders;

public sealed class FileReminderTableOptionsValidator : IValidateOptions<FileReminderTableOptions>
{
    public ValidateOptionsResult Validate(string? name, FileReminderTableOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return string.IsNullOrWhiteSpace(options.Directory)
            ? ValidateOptionsResult.Fail("reminder table: Directory (Plateau:Coordinator:StateDirectory) is required")
            : ValidateOptionsResult.Success;
    }
}
