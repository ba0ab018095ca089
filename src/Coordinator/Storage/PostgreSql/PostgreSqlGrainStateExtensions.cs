using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Serialization;
using Orleans.Storage;

namespace Plateau.Coordinator.Storage.PostgreSql;

public static class PostgreSqlGrainStateExtensions
{
    /// <summary>
    /// Named grain storage in PostgreSQL through Orleans' ADO.NET provider (table <c>OrleansStorage</c>),
    /// with the schema applied at silo start. State is written with the Orleans serializer: every
    /// persisted type is <c>[GenerateSerializer]</c> with stable <c>[Id]</c>s, so added fields read old rows.
    /// </summary>
    public static ISiloBuilder AddPostgreSqlGrainState(this ISiloBuilder silo, string name, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        silo.Services.TryAddSingleton<PostgreSqlSchema>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(services =>
            new PostgreSqlSchemaStartup(services.GetRequiredService<PostgreSqlSchema>(), connectionString));
        return silo.AddAdoNetGrainStorage(name, options => options.Configure<Serializer>((storage, serializer) =>
        {
            storage.Invariant = "Npgsql";
            storage.ConnectionString = connectionString;
            storage.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
        }));
    }

    /// <summary>
    /// Orleans reminders in PostgreSQL through the ADO.NET provider (table <c>OrleansRemindersTable</c>, created by
    /// the schema at silo start), replacing any reminder table registered before.
    /// </summary>
    public static ISiloBuilder AddPostgreSqlReminderTable(this ISiloBuilder silo, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        silo.Services.RemoveAll<IReminderTable>();
        return silo.UseAdoNetReminderService(options => (options.Invariant, options.ConnectionString) = ("Npgsql", connectionString));
    }
}
