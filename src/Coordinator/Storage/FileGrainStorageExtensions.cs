using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime.Hosting;

namespace Plateau.Coordinator.Storage;

public static class FileGrainStorageExtensions
{
    /// <summary>Registers a named <see cref="FileGrainStorage"/>; options are validated at start.</summary>
    public static ISiloBuilder AddFileGrainStorage(this ISiloBuilder silo, string name, Action<FileGrainStorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(silo);
        silo.Services.AddOptions<FileGrainStorageOptions>(name).Configure(configure).ValidateOnStart();
        silo.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FileGrainStorageOptions>, FileGrainStorageOptionsValidator>());
        silo.Services.AddGrainStorage(name, (services, key) => new FileGrainStorage(
            key,
            services.GetRequiredService<IOptionsMonitor<FileGrainStorageOptions>>().Get(key),
            services.GetRequiredService<ILogger<FileGrainStorage>>()));
        return silo;
    }
}
