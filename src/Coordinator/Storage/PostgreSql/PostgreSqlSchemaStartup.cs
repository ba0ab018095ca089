using Orleans.Runtime;

namespace Plateau.Coordinator.Storage.PostgreSql;

/// <summary>Applies the schema when the silo starts, before membership and grain storage touch the
/// database (their stages come later), so a bad connection string stops the coordinator with one clear error.</summary>
internal sealed class PostgreSqlSchemaStartup(PostgreSqlSchema schema, string connectionString) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(PostgreSqlSchemaStartup), ServiceLifecycleStage.First, async cancellationToken =>
            await schema.ApplyAsync(connectionString, cancellationToken));
}
