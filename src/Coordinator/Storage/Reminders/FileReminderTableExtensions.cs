using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Plateau.Coordinator.Storage.Reminders;

public static class FileReminderTableExtensions
{
    /// <summary>
    /// Orleans reminders with their table in <c>{directory}/reminders.json</c> (<see cref="FileReminderTable"/>),
    /// replacing any table registered before (<c>UsePlateauCluster</c> gives Localhost silos the coordinator's
    /// table through a grain; the coordinator holds the file itself). Options are validated at start.
    /// </summary>
    public static ISiloBuilder AddFileReminderTable(this ISiloBuilder silo, string directory)
    {
        ArgumentNullException.ThrowIfNull(silo);
        silo.AddReminders();
        silo.Services.AddOptions<FileReminderTableOptions>().Configure(o => o.Directory = directory).ValidateOnStart();
        silo.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FileReminderTableOptions>, FileReminderTableOptionsValidator>());
        silo.Services.RemoveAll<IReminderTable>();
        silo.Services.TryAddSingleton<FileReminderTable>();
        silo.Services.AddSingleton<IReminderTable>(services => services.GetRequiredService<FileReminderTable>());
        return silo;
    }
}
